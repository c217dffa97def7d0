// `npm test` interrupted by a SIGTERM (CI cancelling a job, `timeout npm test`) ends everything it
// started (scripts/test/interrupt.ts). A nested harness runs one fixture file and is interrupted:
// once the file's processes run (against this run's Temporal server), during its own set-up, and twice.
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

/**
 * Starts the harness over the fixture file; `temporalAddress` undefined: it starts a server of its own.
 * `ownGroup`: in a process group of its own, as a terminal starts a command, for a Ctrl-C to reach.
 */
function nestedRun(temporalAddress: string | undefined, extraEnv: Record<string, string> = {}, ownGroup = false) {
  const pidsFile = join(mkdtempSync(join(tmpdir(), 'interrupted-run-')), 'pids.json');
  // Node's runner tells the processes it starts that they report to it; the nested run reports itself.
  const { NODE_TEST_CONTEXT: _context, TEMPORAL_ADDRESS: _address, ...env } = process.env;
  const harness = spawn(process.execPath, ['--import', 'tsx', 'scripts/test.ts', 'test/fixtures/harness/interrupted.fixture.ts'], {
    cwd: projectRoot(),
    env: { ...env, ...(temporalAddress ? { TEMPORAL_ADDRESS: temporalAddress } : {}), INTERRUPTED_RUN_PIDS: pidsFile, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownGroup,
  });
  let output = '';
  harness.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  harness.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => harness.once('exit', (code) => done(code)));
  return { harness, pidsFile, exited, output: () => output };
}

/** The pids the fixture file wrote once its processes run, each checked to be running. */
async function fixturePids(run: ReturnType<typeof nestedRun>): Promise<Record<string, number>> {
  const pids = await waitFor(
    () => `the fixture file to start its processes; the harness said:\n${run.output()}`,
    () => existsSync(run.pidsFile) && (JSON.parse(readFileSync(run.pidsFile, 'utf8')) as Record<string, number>),
    60_000,
  );
  for (const [name, pid] of Object.entries(pids)) assert.ok(processAlive(pid), `${name} (pid ${pid}) is not running`);
  return pids;
}

/** Interrupts the nested run (unless `interrupted`) and checks that it exits 130 with none of `pids` left. */
async function interruptAndCheck(run: ReturnType<typeof nestedRun>, pids: Record<string, number>, interrupted = false): Promise<void> {
  if (!interrupted) run.harness.kill('SIGTERM');
  assert.equal(await run.exited, 130, run.output());
  // The harness exits once they have ended (or after killing them): none may be left.
  const left = Object.entries(pids).filter(([, pid]) => processAlive(pid));
  assert.deepEqual(left, [], `still running after the harness exited:\n${run.output()}`);
}

test('an interrupted npm test ends the runner, the test files and what they started, detached or not', { timeout: 90_000 }, async () => {
  const run = nestedRun(testAddress());
  await interruptAndCheck(run, await fixturePids(run));
});

test("Ctrl-C in a terminal (SIGINT to the run's process group) ends what the test files started detached too", { timeout: 90_000 }, async () => {
  // The files used to be in the group: they died of the SIGINT before the harness could look, and
  // what they had started detached went to init, out of the harness's sight.
  const run = nestedRun(testAddress(), {}, true);
  const pids = await fixturePids(run);
  process.kill(-run.harness.pid!, 'SIGINT');
  await interruptAndCheck(run, pids, true);
});

test('interrupted again, npm test kills what is left at once instead of waiting out the grace', { timeout: 90_000 }, async () => {
  // A grace longer than the test's own timeout: the run can end in time only by the second interrupt.
  const run = nestedRun(testAddress(), { TASKOTRON_TEST_INTERRUPT_GRACE_S: '600', INTERRUPTED_RUN_STUBBORN: '1' });
  const pids = await fixturePids(run);
  run.harness.kill('SIGTERM');
  await waitFor(() => `the harness to take the interrupt; it said:\n${run.output()}`, () => /interrupt again to kill them now/.test(run.output()), 30_000);
  // An interrupt within a second of the first is taken for the same one relayed (by npm, by tsx).
  const taken = performance.now();
  await waitFor('a second and a half since the harness took the first interrupt', () => performance.now() - taken >= 1500, 5000);
  assert.ok(processAlive(pids.stubborn!), `the process that ignores SIGTERM should still be running:\n${run.output()}`);
  run.harness.kill('SIGTERM');
  await interruptAndCheck(run, pids, true);
  assert.match(run.output(), /SIGTERM again: killing the run's processes and servers now/);
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
