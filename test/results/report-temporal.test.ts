// Reporting through a real Temporal worker on the harness's server, with the recommended retry
// policy: an attempt that crashes after posting some results is retried by Temporal without posting
// any twice, and a two-minute ResultsDB outage delays the results but loses none. The outage is
// played at 1/16 of real time (a 7.5 s outage against the policy's backoff intervals divided by 16,
// test/results/workflows.ts): the same five failed attempts in the same order, without 2.5 min of
// waiting. (The server fires no timer sooner than 1 s ahead, so the two shortest intervals take 1 s.)
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createReportingActivities } from '../../src/activities/report.js';
import { REPORT_RETRY_POLICY } from '../../src/results/policy.js';
import { MAIN_THREAD_WORKFLOWS } from '../../src/worker/workflow-thread.js';
import { startResultsDBServer, type ResultsDBTestServer } from '../support/resultsdb-server.js';
import { quietRuntime } from '../support/runtime.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import type { reportOnce } from './workflows.js';

quietRuntime();

const RESULTS = ['two_three', 'naming_scheme', 'executables', 'requires', 'py3_support']
  .map((check, i) => `  - {item: foo-1.0-1.fc40, type: koji_build, outcome: ${i % 2 ? 'FAILED' : 'PASSED'}, checkname: python-versions.${check}}`)
  .join('\n');
const TEXT = `results:\n${RESULTS}\n`;

describe('reporting through a real Temporal worker', () => {
  const taskQueue = uniqueName('report');
  let server: ResultsDBTestServer;
  let worker: Worker;
  let running: Promise<void>;
  let connection: NativeConnection;
  let client: Client;
  let closeClient: () => Promise<void>;

  before(async () => {
    server = await startResultsDBServer();
    connection = await NativeConnection.connect({ address: testAddress() });
    worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
      ...MAIN_THREAD_WORKFLOWS,
      activities: createReportingActivities({
        resultsdbUrl: server.url,
        namespaces: { safe: ['scratch'], whitelist: {} },
        artifactsBaseUrl: 'https://taskotron.example.org/artifacts/all',
        temporalUiUrl: 'http://127.0.0.1:8233',
      }),
      shutdownGraceTime: 1000,
    });
    running = worker.run();
    ({ client, close: closeClient } = await testClient());
  });

  after(async () => {
    worker.shutdown();
    await running;
    await connection.close();
    await closeClient();
    await server.close();
  });

  const input = () => ({
    results: TEXT,
    job: { uuid: randomUUID(), task: 'python-versions', item: 'foo-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64', namespace: 'scratch', artifactsdir: mkdtempSync(join(tmpdir(), 'taskotron-artifacts-')) },
  });
  const inGroup = (uuid: string) => server.results().filter((r) => (r.groups as string[]).includes(uuid));

  test('an attempt that crashes after posting some results is retried without posting any twice', async () => {
    const job = input();
    const workflowId = uniqueName('report-crash');
    const before = server.storedPosts();
    // The first attempt gets two answers; the third result is stored but the answer is lost.
    server.loseAnswers(1, 2);
    const handle = await client.workflow.start<typeof reportOnce>('reportOnce', { taskQueue, workflowId, args: [job], workflowExecutionTimeout: '2 minutes' });

    // Between the attempts (5 s backoff) the server holds what the failed attempt heartbeated.
    let recorded: { posted: unknown[] } | undefined;
    for (let i = 0; i < 50 && !recorded; i++) {
      await new Promise((done) => setTimeout(done, 100));
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      const payload = pending?.lastFailure ? pending.heartbeatDetails?.payloads?.[0]?.data : undefined;
      if (payload) recorded = JSON.parse(Buffer.from(payload).toString('utf8')) as { posted: unknown[] };
    }
    assert.equal(recorded?.posted.length, 2, 'the two answered POSTs reached Temporal in the heartbeat details');

    const output = await handle.result();

    assert.equal(server.storedPosts() - before, 5, 'five results, each stored once');
    const stored = inGroup(job.job.uuid);
    assert.deepEqual(stored.map((r) => r.testcase).sort(), RESULTS.split('\n').map((l) => `scratch.${/checkname: (\S+)\}/.exec(l)![1]}`).sort());
    assert.deepEqual(output.reported.map((r) => r.id).sort(), stored.map((r) => r.id).sort());
    assert.equal(output.skipped, 3, 'two from the heartbeat details, one found in the job group');
    assert.equal(output.summary, '3 PASSED, 2 FAILED');

    const history = await handle.fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    assert.equal(started.at(-1)!.activityTaskStartedEventAttributes!.attempt, 2, 'Temporal ran a second attempt');
    const group = (await (await fetch(`${server.url}/groups/${job.job.uuid}`)).json()) as { ref_url: string };
    const { runId } = await handle.describe();
    assert.equal(group.ref_url, `http://127.0.0.1:8233/namespaces/default/workflows/${workflowId}/${runId}/history`);
  });

  test('a two-minute ResultsDB outage delays the results but loses none', async () => {
    const job = input();
    const timeScale = 16;
    const outageMs = 120_000 / timeScale;
    const before = server.storedPosts();
    const requestsBefore = server.requests.length;
    const started = performance.now();
    // Open-ended until an attempt has been seen failing: on a loaded machine the first attempt once
    // came after a fixed 7.5 s outage had ended, and there was no failure to see.
    server.outage(10 * 60_000);
    const handle = await client.workflow.start<typeof reportOnce>('reportOnce', { taskQueue, workflowId: uniqueName('report-outage'), args: [job, timeScale], workflowExecutionTimeout: '10 minutes' });

    // While it waits, the pending activity tells the operator why.
    let why: string | undefined;
    while (!why && performance.now() - started < 60_000) {
      await new Promise((done) => setTimeout(done, 200));
      why = (await handle.describe()).raw.pendingActivities?.[0]?.lastFailure?.message ?? undefined;
    }
    assert.equal(server.storedPosts(), before, 'nothing stored during the outage');
    // The outage lasts its (scaled) two minutes, or until the failure was seen if that came later.
    const outageEnd = Math.max(started + outageMs, performance.now());
    server.outage(outageEnd - performance.now());
    assert.match(why ?? '', /^ResultsDB is unavailable, will retry: GET .* answered 503 Service Unavailable/);

    const output = await handle.result();
    const finished = performance.now();
    const elapsed = finished - started;
    assert.ok(elapsed >= outageMs, `finished after ${elapsed} ms, not before the outage ended`);
    assert.ok(finished - outageEnd < (2 * 60_000) / timeScale, `finished ${finished - outageEnd} ms after the outage (backoff is capped at ${String(REPORT_RETRY_POLICY.maximumInterval)} / ${timeScale})`);
    assert.equal(server.storedPosts() - before, 5);
    assert.equal(inGroup(job.job.uuid).length, 5);
    assert.ok(output.reported.every((r) => typeof r.id === 'number'));
    // Each attempt's first request (the API's landing page, for the outcomes it accepts) names no job.
    const attempts = server.requests.slice(requestsBefore).filter((r) => r.status === 503).length;
    console.log(`# outage of ${((outageEnd - started) / 1000).toFixed(1)} s (${(outageMs * timeScale) / 1000} s at 1/${timeScale} time): ${attempts} attempts answered 503; results stored ${((finished - outageEnd) / 1000).toFixed(1)} s after it ended`);
  });
});
