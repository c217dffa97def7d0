// The Temporal server dies (kill -9) while a job runs and comes back on the same SQLite database:
// the running step carries on, the runner reconnects, and the job finishes. This test runs its own
// dev server (a database file, free ports), not the harness's shared one.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { JOB_PROGRESS_QUERY, JOB_WORKFLOW, type JobResult } from '../../src/common/job.js';
import { ensureTemporalCli } from '../../src/devserver/cli-binary.js';
import { freePort, startDevServer, type DevServer } from '../../src/devserver/server.js';
import { localJob, startTestRunner, type TestRunner } from '../support/job.js';
import { quietRuntime } from '../support/runtime.js';
import { uniqueName } from '../support/temporal.js';
import { waitFor, type WaitOptions } from '../support/until.js';

quietRuntime();

const scratch = mkdtempSync(join(tmpdir(), 'taskotron-restart-'));
const dbFile = join(scratch, 'temporal.db');
let server: DevServer | undefined;
let runner: TestRunner | undefined;
let connection: Connection | undefined;

after(async () => {
  await runner?.stop();
  await connection?.close();
  await server?.stop();
});

/** Every call to a dead server fails until it is back: retried, bounded. */
const THROUGH_OUTAGE: WaitOptions = { timeoutMs: 120_000, intervalMs: 250, retryErrors: true };

test('kill -9 of the Temporal server mid-job, restarted on the same database: the job resumes and finishes', { timeout: 240_000 }, async () => {
  const binary = ensureTemporalCli();
  const port = await freePort();
  server = await startDevServer({ binary, port, uiPort: false, dbFile });
  runner = await startTestRunner({ hostname: 'restart-host', address: server.address });
  connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const input = localJob(runner, 'gate');
  const workflowId = uniqueName('job-restart');
  await client.workflow.start(JOB_WORKFLOW, { taskQueue: runner.workflowQueue, workflowId, args: [input] });
  const running = await waitFor('the job to run', async () => {
    const snapshot = await client.workflow.getHandle(workflowId).query<JobResult>(JOB_PROGRESS_QUERY);
    return snapshot.actions[0]?.status === 'running' ? snapshot : undefined;
  }, THROUGH_OUTAGE);

  process.kill(-server.pid, 'SIGKILL');
  await new Promise((resolve) => server!.process.once('exit', resolve));
  server = await startDevServer({ binary, port, uiPort: false, dbFile });
  // Back on the same database: the job is still there, still running its step on the same host.
  writeFileSync(join(running.artifacts!.dir, 'open'), '');
  const result = await waitFor('the job to finish', async () => (await client.workflow.getHandle(workflowId).result()) as JobResult, THROUGH_OUTAGE);
  assert.equal(result.outcome, 'PASSED', result.reason);
  assert.equal(result.host, 'restart-host');
  console.log(`# job ${workflowId} finished ${result.outcome} after a kill -9 of its Temporal server; hosts: ${JSON.stringify(result.hosts)}`);
});
