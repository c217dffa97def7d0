// `npm test` interrupted by a SIGTERM (CI cancelling a job, `timeout npm test`) ends everything it
// started (scripts/test/interrupt.ts). A nested harness runs one fixture file against this run's
// Temporal server, and is interrupted once the file's processes run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../src/devserver/project.js';
import { processAlive } from './processes.js';
import { testAddress } from './temporal.js';
import { waitFor } from './until.js';

test('an interrupted npm test ends the runner, the test files and what they started, detached or not', { timeout: 90_000 }, async () => {
  const pidsFile = join(mkdtempSync(join(tmpdir(), 'interrupted-run-')), 'pids.json');
  // Node's runner tells the processes it starts that they report to it; the nested run reports itself.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const harness = spawn(process.execPath, ['--import', 'tsx', 'scripts/test.ts', 'test/fixtures/harness/interrupted.fixture.ts'], {
    cwd: projectRoot(),
    env: { ...env, TEMPORAL_ADDRESS: testAddress(), INTERRUPTED_RUN_PIDS: pidsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  harness.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  harness.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => harness.once('exit', (code) => done(code)));
  const pids = await waitFor(
    () => `the fixture file to start its processes; the harness said:\n${output}`,
    () => existsSync(pidsFile) && (JSON.parse(readFileSync(pidsFile, 'utf8')) as Record<string, number>),
    60_000,
  );
  for (const [name, pid] of Object.entries(pids)) assert.ok(processAlive(pid), `${name} (pid ${pid}) is not running`);

  harness.kill('SIGTERM');
  assert.equal(await exited, 130, output);
  // The harness exits once they have ended (or after killing them): none may be left.
  const left = Object.entries(pids).filter(([, pid]) => processAlive(pid));
  assert.deepEqual(left, [], `still running after the harness exited:\n${output}`);
});
