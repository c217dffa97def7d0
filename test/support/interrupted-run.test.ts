// `npm test` interrupted by a SIGTERM (CI cancelling a job, `timeout npm test`) ends everything it
// started (scripts/test/interrupt.ts). A nested harness runs one fixture file and is interrupted:
// once the file's processes run (against this run's Temporal server), and during its own set-up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../src/devserver/project.js';
import { descendants } from '../../scripts/test/interrupt.js';
import { commandLine, processAlive } from './processes.js';
import { testAddress } from './temporal.js';
import { waitFor } from './until.js';

/** Starts the harness over the fixture file; `temporalAddress` undefined: it starts a server of its own. */
function nestedRun(temporalAddress: string | undefined) {
  const pidsFile = join(mkdtempSync(join(tmpdir(), 'interrupted-run-')), 'pids.json');
  // Node's runner tells the processes it starts that they report to it; the nested run reports itself.
  const { NODE_TEST_CONTEXT: _context, TEMPORAL_ADDRESS: _address, ...env } = process.env;
  const harness = spawn(process.execPath, ['--import', 'tsx', 'scripts/test.ts', 'test/fixtures/harness/interrupted.fixture.ts'], {
    cwd: projectRoot(),
    env: { ...env, ...(temporalAddress ? { TEMPORAL_ADDRESS: temporalAddress } : {}), INTERRUPTED_RUN_PIDS: pidsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  harness.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  harness.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => harness.once('exit', (code) => done(code)));
  return { harness, pidsFile, exited, output: () => output };
}

/** Interrupts the nested run and checks that it exits 130 with none of `pids` left. */
async function interruptAndCheck(run: ReturnType<typeof nestedRun>, pids: Record<string, number>): Promise<void> {
  run.harness.kill('SIGTERM');
  assert.equal(await run.exited, 130, run.output());
  // The harness exits once they have ended (or after killing them): none may be left.
  const left = Object.entries(pids).filter(([, pid]) => processAlive(pid));
  assert.deepEqual(left, [], `still running after the harness exited:\n${run.output()}`);
}

test('an interrupted npm test ends the runner, the test files and what they started, detached or not', { timeout: 90_000 }, async () => {
  const run = nestedRun(testAddress());
  const pids = await waitFor(
    () => `the fixture file to start its processes; the harness said:\n${run.output()}`,
    () => existsSync(run.pidsFile) && (JSON.parse(readFileSync(run.pidsFile, 'utf8')) as Record<string, number>),
    60_000,
  );
  for (const [name, pid] of Object.entries(pids)) assert.ok(processAlive(pid), `${name} (pid ${pid}) is not running`);
  await interruptAndCheck(run, pids);
});

test('interrupted while it starts its Temporal server, npm test leaves no server behind', { timeout: 90_000 }, async () => {
  const run = nestedRun(undefined);
  const temporal = await waitFor(
    () => `the harness to start a Temporal server; it said:\n${run.output()}`,
    () => descendants(run.harness.pid!).find(({ pid }) => /temporal\0server\0start-dev/.test(commandLine(pid))),
    60_000,
  );
  await interruptAndCheck(run, { temporal: temporal.pid });
});
