// Slots: two hosts of one slot each, one long job and a burst of short ones. The short jobs wait in
// the arch queue and run on the free host, never behind the busy one; no host ever holds more jobs
// than it has slots (read from the jobs' histories); nobody is declared lost.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createHostActivities } from '../../src/activities/host.js';
import { JOB_PROGRESS_QUERY, JOB_WORKFLOW, type JobResult } from '../../src/common/job.js';
import { runnerQueue } from '../../src/common/queues.js';
import { createRunnerWorker } from '../../src/worker/runner-worker.js';
import { peakHoldsPerHost, slotHolds } from '../support/history.js';
import { localJob, startTestRunner, type TestRunner } from '../support/job.js';
import { quietRuntime } from '../support/runtime.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { waitFor, type WaitOptions } from '../support/until.js';

quietRuntime();

let hosts: TestRunner[];
let client: Client;
let close: () => Promise<void>;
const arch = uniqueName('arch');
const workflowQueue = uniqueName('workflows');
/** Progress snapshots are queries to the job: a minute is generous, a query every 100 ms is plenty. */
const SNAPSHOT_WAIT: WaitOptions = { timeoutMs: 60_000, intervalMs: 100 };

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

test('a long job holds one host; a burst of short jobs runs on the other, one at a time, none lost', { timeout: 180_000 }, async () => {
  const long = localJob({ arch }, 'gate');
  const longHandle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName('job-long'), args: [long] });
  const busy = await waitFor('the long job to run', async () => {
    const snapshot = await longHandle.query<JobResult>(JOB_PROGRESS_QUERY).catch(() => undefined);
    return snapshot?.actions[0]?.status === 'running' ? snapshot : undefined;
  }, SNAPSHOT_WAIT);
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
    // Released exactly once, and only when the job let go: the host ended the slot itself once the
    // job's last step there (removeWorkdir) had run; no cancel, so no round trip at the job's end.
    const events = history.events as { eventType: string; eventId: string; activityTaskScheduledEventAttributes?: { activityType?: { name?: string } }; activityTaskCompletedEventAttributes?: { scheduledEventId?: string } }[];
    const kinds = events.map((e) => e.eventType);
    assert.equal(kinds.filter((k) => k === 'EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED').length, 0, 'the slot was not cancelled');
    const scheduledId = (name: string) => events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name)!.eventId;
    const slotEnd = events.findIndex((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId === scheduledId('holdSlot'));
    // (A started event is written with its activity's outcome, so the schedule is what orders them.)
    const removeScheduled = events.findIndex((e) => e.eventId === scheduledId('removeWorkdir'));
    assert.ok(slotEnd > removeScheduled && removeScheduled > 0, "the slot ended itself after the job's removeWorkdir was scheduled on its host");
    holds.push(...own);
  }
  assert.deepEqual(Object.fromEntries(peakHoldsPerHost(holds)), { [busyHost]: 1, [freeHost]: 1 }, 'never more jobs on a host than its one slot');
  console.log(`# long job on ${busyHost}; 4 short jobs on ${freeHost}, each waited in the arch queue, never on a host`);
});

test("the job's time limit covers every host: on the next host a step gets only what is left", { timeout: 180_000 }, async () => {
  const ownArch = uniqueName('arch');
  const first = await startTestRunner({ hostname: 'limit-host-a', arch: ownArch, workflowQueue, concurrency: 1 });
  let second: TestRunner | undefined;
  try {
    const limitSeconds = 600;
    const input = localJob({ arch: ownArch }, 'gate', { timeoutSeconds: limitSeconds, supervision: { heartbeatTimeoutSeconds: 3 } });
    const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName('job-limit'), args: [input] });
    await waitFor('the job to run on the first host', async () => {
      const snapshot = await handle.query<JobResult>(JOB_PROGRESS_QUERY).catch(() => undefined);
      return snapshot?.actions[0]?.status === 'running' ? snapshot : undefined;
    }, SNAPSHOT_WAIT);
    second = await startTestRunner({ hostname: 'limit-host-b', arch: ownArch, workflowQueue, concurrency: 1 });
    // The first host shuts down (grace 1 s): its step is killed, the job takes a slot on the second.
    await first.stop();
    const moved = await waitFor('the job to run on the second host', async () => {
      const snapshot = await handle.query<JobResult>(JOB_PROGRESS_QUERY).catch(() => undefined);
      return snapshot?.host === 'limit-host-b' && snapshot.actions[0]?.status === 'running' ? snapshot : undefined;
    }, SNAPSHOT_WAIT);
    writeFileSync(join(moved.artifacts!.dir, 'open'), '');
    const result = (await handle.result()) as JobResult;
    assert.equal(result.outcome, 'PASSED', result.reason);
    assert.match(result.hosts[0]!.lostBecause!, /action 'wait for the gate': host limit-host-a shut down during the step/);

    // The step on each host was given what was left of one limit, not a fresh one per host.
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as {
      events: { eventTime: string; activityTaskScheduledEventAttributes?: { activityType: { name: string }; startToCloseTimeout: string } }[];
    };
    const scheduled = (name: string) => history.events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType.name === name);
    const [firstShell, secondShell] = scheduled('shell');
    const secondSlot = scheduled('holdSlot')[1]!;
    const granted = parseFloat(secondShell!.activityTaskScheduledEventAttributes!.startToCloseTimeout) * 1000;
    // Certainly used already: the first host's step started before, and the second slot was asked for after, this span.
    const used = Date.parse(secondSlot.eventTime) - Date.parse(firstShell!.eventTime);
    assert.ok(used > 0);
    assert.ok(granted <= limitSeconds * 1000 - used + 5, `the second host's step got ${granted} ms although ${used} ms of the ${limitSeconds} s limit were used on the first`);
  } finally {
    await second?.stop();
  }
});

test('a host that does not end slots itself (an older runner) is released by a cancel, as before', { timeout: 120_000 }, async () => {
  const ownArch = uniqueName('arch');
  const hostname = 'older-host';
  // The host's own queue from today's runner, but its arch-queue slot from an older one: a holdSlot
  // that ignores the job's endsAfterWorkdir (and so never says it will end the slot itself).
  const host = await createRunnerWorker({
    temporal: { address: testAddress(), namespace: 'default' },
    arch: ownArch,
    hostname,
    workflowQueue,
    workflowsOnMainThread: true,
    poolQueue: uniqueName('unused-pool'),
    shutdownGraceMs: 1000,
    runner: { root: mkdtempSync(join(tmpdir(), 'taskotron-runner-')) },
  });
  const older = createHostActivities({ arch: ownArch, hostname });
  const connection = await NativeConnection.connect({ address: testAddress() });
  const pool = await Worker.create({
    connection,
    taskQueue: runnerQueue(ownArch),
    activities: { holdSlot: () => older.holdSlot() },
    // The older runner's pool worker let a slot's beats through every 2 s, so its cancel arrived with
    // the next one; the SDK's default (0.8 × the slot's heartbeat timeout) held it 24 s instead.
    maxHeartbeatThrottleInterval: '2 seconds',
  });
  const running = [host.run(), pool.run()];
  try {
    const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName('job-older-host'), args: [localJob({ arch: ownArch }, 'quick')] });
    const result = (await handle.result()) as JobResult;
    assert.equal(result.outcome, 'PASSED', result.reason);
    assert.deepEqual(result.hosts, [{ host: hostname }], 'no host was lost');
    const kinds = (JSON.parse(historyToJSON(await handle.fetchHistory())) as { events: { eventType: string }[] }).events.map((e) => e.eventType);
    assert.equal(kinds.filter((k) => k === 'EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED').length, 1, 'the job cancelled the slot');
    assert.equal(kinds.filter((k) => k === 'EVENT_TYPE_ACTIVITY_TASK_CANCELED').length, 1, 'and the host confirmed it');
  } finally {
    host.shutdown();
    pool.shutdown();
    await Promise.all(running);
    await connection.close();
  }
});
