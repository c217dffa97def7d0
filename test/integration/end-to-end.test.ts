// The whole path with no stand-in workflow: a fedmsg message published over ZeroMQ → ingest decodes
// it and matches the rules → the real trigger workflow starts the real runJob → a runner worker
// holds a slot and runs the example task → its result is stored in the ResultsDB stand-in → PASSED.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import type { JobResult } from '../../src/common/job.js';
import { projectRoot } from '../../src/devserver/project.js';
import { jobWorkflowId } from '../../src/workflows/trigger.js';
import { corpusEnvelope } from '../ingest/corpus.js';
import { publishTo, startTestIngest, type TestIngest } from '../ingest/support.js';
import { until } from '../support/until.js';
import { startTestRunner, type TestRunner } from '../support/job.js';
import { startResultsDBServer, type ResultsDBTestServer } from '../support/resultsdb-server.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient, uniqueName } from '../support/temporal.js';

quietRuntime();

const arch = uniqueName('arch');
const jobQueue = uniqueName('jobs');
let resultsdb: ResultsDBTestServer;
let runner: TestRunner;
let ingest: TestIngest;
let client: Client;
let close: () => Promise<void>;

before(async () => {
  resultsdb = await startResultsDBServer();
  // On the SDK's workflow thread, as a deployed runner.
  runner = await startTestRunner({ hostname: 'e2e-host', arch, workflowQueue: jobQueue, reporting: { resultsdbUrl: resultsdb.url }, workflowsOnMainThread: false });
  ingest = await startTestIngest(
    `- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [nvr-sanity], arches: [${arch}]}]\n`,
    // As deployed: trigger and job workflows run on the runner workers' workflow queue (their bundle
    // has every workflow), ingest runs only its activities — no stand-in workflow anywhere.
    { validArches: [arch], taskRepo: `local:${join(projectRoot(), 'examples', 'tasks')}/\${task}`, jobQueue, triggerQueue: jobQueue, runTriggerWorkflows: false },
    { worker: {} },
  );
  ({ client, close } = await testClient());
});
after(async () => {
  await ingest.service.stop();
  await runner.stop();
  await close();
  await resultsdb.close();
});

test('a Koji build message over ZeroMQ ends as a PASSED job with its result in ResultsDB', { timeout: 180_000 }, async () => {
  const message = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', `2026-${crypto.randomUUID()}`);
  const body = message.msg as { name: string; version: string; release: string };
  const nvr = `${body.name}-${body.version}-${body.release}`;
  await publishTo(ingest.endpoint, [message]);

  const workflowId = jobWorkflowId(message.msg_id, 'nvr-sanity', arch);
  await until(() => `job ${workflowId} to start`, async () => Boolean(await client.workflow.getHandle(workflowId).describe().catch(() => undefined)), 60_000).catch(
    async (error: Error) => {
      const trigger = await client.workflow.getHandle(`msg-${message.msg_id}`).describe().catch((e: Error) => e.message);
      throw new Error(`${error.message}\ntrigger workflow: ${JSON.stringify(trigger, null, 1)?.slice(0, 2000)}\ningest log:\n${ingest.logs.join('\n')}`);
    },
  );
  const result = (await client.workflow.getHandle(workflowId).result()) as JobResult;
  assert.equal(result.outcome, 'PASSED', result.reason);
  assert.equal(result.item, nvr);
  assert.deepEqual(result.hosts, [{ host: 'e2e-host' }]);
  assert.deepEqual(
    (resultsdb.results() as { testcase: string; outcome: string; data: Record<string, string[]> }[]).map((r) => [r.testcase, r.outcome, r.data.item]),
    [['scratch.nvr-sanity', 'PASSED', [nvr]]],
  );
  console.log(`# ${message.msg_id} → ${workflowId}: ${result.outcome}, 1 result in ResultsDB`);
});
