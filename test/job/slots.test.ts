// Slots: two hosts of one slot each, one long job and a burst of short ones. The short jobs wait in
// the arch queue and run on the free host, never behind the busy one; no host ever holds more jobs
// than it has slots (read from the jobs' histories); nobody is declared lost.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { JOB_PROGRESS_QUERY, JOB_WORKFLOW, type JobResult } from '../../src/common/job.js';
import { peakHoldsPerHost, slotHolds } from '../support/history.js';
import { localJob, startTestRunner, type TestRunner } from '../support/job.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient, uniqueName } from '../support/temporal.js';

quietRuntime();

let hosts: TestRunner[];
let client: Client;
let close: () => Promise<void>;
const arch = uniqueName('arch');
const workflowQueue = uniqueName('workflows');

before(async () => {
  hosts = [
    await startTestRunner({ hostname: 'slot-host-a', arch, workflowQueue, concurrency: 1 }),
    await startTestRunner({ hostname: 'slot-host-b', arch, workflowQueue, concurrency: 1 }),
  ];
  ({ client, close } = await testClient());
});
after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await close();
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const value = await probe();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

test('a long job holds one host; a burst of short jobs runs on the other, one at a time, none lost', { timeout: 180_000 }, async () => {
  const long = localJob({ arch }, 'gate');
  const longHandle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName('job-long'), args: [long] });
  const busy = await until(async () => {
    const snapshot = await longHandle.query<JobResult>(JOB_PROGRESS_QUERY).catch(() => undefined);
    return snapshot?.actions[0]?.status === 'running' ? snapshot : undefined;
  }, 'the long job to run');
  const busyHost = busy.host!;
  const freeHost = busyHost === 'slot-host-a' ? 'slot-host-b' : 'slot-host-a';

  const shorts: WorkflowHandle[] = [];
  for (let i = 0; i < 4; i++) {
    shorts.push(await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName(`job-short-${i}`), args: [localJob({ arch }, 'quick')] }));
  }
  const results = (await Promise.all(shorts.map((h) => h.result()))) as JobResult[];
  for (const result of results) {
    assert.equal(result.outcome, 'PASSED', result.reason);
    assert.deepEqual(result.hosts, [{ host: freeHost }], 'a short job ran on the free host, and only there');
  }
  // The long job still holds its host: the short ones never queued behind it.
  assert.equal((await longHandle.query<JobResult>(JOB_PROGRESS_QUERY)).actions[0]!.status, 'running');
  writeFileSync(join(busy.artifacts!.dir, 'open'), '');
  const longResult = (await longHandle.result()) as JobResult;
  assert.equal(longResult.outcome, 'PASSED', longResult.reason);
  assert.deepEqual(longResult.hosts, [{ host: busyHost }]);

  const holds = [];
  for (const handle of [longHandle, ...shorts]) {
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as { events: unknown[] };
    const own = slotHolds(history);
    assert.equal(own.length, 1, 'one slot per job: no host was lost or changed');
    // Released exactly once, and only when the job let go: one cancel of the slot, confirmed by the host.
    const kinds = (history.events as { eventType: string }[]).map((e) => e.eventType);
    assert.equal(kinds.filter((k) => k === 'EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED').length, 1);
    assert.equal(kinds.filter((k) => k === 'EVENT_TYPE_ACTIVITY_TASK_CANCELED').length, 1);
    holds.push(...own);
  }
  assert.deepEqual(Object.fromEntries(peakHoldsPerHost(holds)), { [busyHost]: 1, [freeHost]: 1 }, 'never more jobs on a host than its one slot');
  console.log(`# long job on ${busyHost}; 4 short jobs on ${freeHost}, each waited in the arch queue, never on a host`);
});
