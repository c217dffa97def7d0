// Two runner hosts on one arch, as separate `taskotron worker` processes: a job's steps all run on
// the host that claimed it, and when that host dies mid-job the job starts over on the other one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JOB_PROGRESS_QUERY, JOB_WORKFLOW, type JobResult } from '../../src/common/job.js';
import { hostQueue } from '../../src/common/queues.js';
import { projectRoot } from '../../src/devserver/project.js';
import { readHistory } from '../support/history.js';
import { startResultsDBServer } from '../support/resultsdb-server.js';
import { localJob } from '../support/job.js';
import { jobProcesses, processAlive, waitForJobProcess } from '../support/processes.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Client } from '@temporalio/client';
import { LOST_HOST_NOT_ASKED_PATCH } from '../../src/workflows/job.js';
import { createRunnerWorker } from '../../src/worker/runner-worker.js';
import { startTestRunner, type TestRunner } from '../support/job.js';
import { startSilentSlot } from '../support/silent-slot.js';
import { cliArgs } from '../support/cli.js';
import { quietRuntime } from '../support/runtime.js';
import { until } from '../support/until.js';

// One test runs a runner worker in this process: the SDK's INFO lines (fifty a run) are not the test's output.
quietRuntime();

const arch = uniqueName('arch');
const workflowQueue = uniqueName('workflows');
const workers: ChildProcess[] = [];

const roots = new Map<string, string>();

/** A runner host as a real process; `stall` makes the slow task's middle step hang on this host. */
function startWorker(hostname: string, workerArch = arch, stall = false, env: Record<string, string> = {}): Promise<ChildProcess> {
  const root = mkdtempSync(join(tmpdir(), `taskotron-${hostname}-`));
  if (stall) writeFileSync(join(root, 'stall'), '');
  roots.set(hostname, root);
  const child = spawn(
    process.execPath,
    [...cliArgs(), 'worker', '--arch', workerArch, '--hostname', hostname, '--workflow-queue', workflowQueue, '--root', root, '--shutdown-grace', '1'],
    // Every host also runs workflow code: once one dies, a job whose workflow it ran last waits
    // runner.workflow_failover for it before another host may take the job's next task (default 10 s).
    { cwd: projectRoot(), env: { ...process.env, TEMPORAL_ADDRESS: testAddress(), TASKOTRON_RUNNER_WORKFLOW_FAILOVER: '1s', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  workers.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('polling')) resolve(child);
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker ${hostname} exited (${code}): ${output}`)));
  });
}

after(() => {
  for (const child of workers) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** Polls the job's progress until `ok`; bounded, so a test whose server went away fails instead of spinning. */
async function progressUntil(handle: { query<T>(name: string): Promise<T> }, ok: (snapshot: JobResult) => boolean, what: string): Promise<void> {
  await until(what, async () => {
    const snapshot = await handle.query<JobResult>(JOB_PROGRESS_QUERY).catch(() => undefined);
    return snapshot !== undefined && ok(snapshot);
  }, { timeoutMs: 60_000, intervalMs: 200 });
}

/**
 * The supervision of the jobs whose host dies here. A live host's step reaches the server with a
 * heartbeat about every 2 s (it beats every 1 s; the host worker sends at most every 2 s) and its
 * slot every min(2 s, 0.6 × the timeout): at a 3 s timeout about a second without CPU made a live
 * host look dead, which a runner just started in a loaded CI run once met (the job ended with three
 * hosts instead of two). At 6 s the margin is about 4 s.
 */
const QUICK_LOSS = { heartbeatTimeoutSeconds: 6, hostLostAfterSeconds: 10 };

/** The slow task's job on `jobArch` (QUICK_LOSS unless told), once its long middle step runs on `host`. */
async function slowJobInLongStep(client: Client, jobArch: string, host: string, idPrefix: string, supervision = QUICK_LOSS) {
  const input = localJob({ arch: jobArch }, 'slow', { supervision });
  const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName(idPrefix), args: [input] });
  await progressUntil(handle, (snapshot) => snapshot.host === host && snapshot.actions[1]?.status === 'running', `the long step on ${host}`);
  return { input, handle };
}

test('a job whose host dies mid-step finishes on the other host, every step of each attempt on one host', { timeout: 120_000 }, async () => {
  const hostA = await startWorker('host-a', arch, true);
  const { client, close } = await testClient();
  try {
    // Wait until host-a is inside the long step, then bring up host-b and kill host-a like a power cut.
    const { handle } = await slowJobInLongStep(client, arch, 'host-a', 'job-slow');
    await startWorker('host-b');
    // The server sends a workflow task to a host's own (sticky) queue only while that queue was
    // polled in the last 10 s (a fixed window in Temporal's matching service); a killed host's last
    // poll is the one it began after its last task. Host-a answers this query from its cache and
    // polls anew, so the task that follows its loss (about 6 s on) still goes to its queue, even
    // when host-b took seconds to start in a loaded run.
    await handle.query(JOB_PROGRESS_QUERY);
    process.kill(-hostA.pid!, 'SIGKILL');

    const result = (await handle.result()) as JobResult;
    assert.equal(result.outcome, 'PASSED');
    assert.equal(result.host, 'host-b');
    assert.equal(result.hosts.length, 2, JSON.stringify(result.hosts));
    assert.equal(result.hosts[0]!.host, 'host-a');
    assert.match(result.hosts[0]!.lostBecause!, /action 'wait': host host-a stopped heartbeating/);
    assert.deepEqual(result.actions.map((a) => a.status), ['passed', 'passed', 'passed']);

    // The record: every step before the loss was sent to host-a's queue, every step after to host-b's.
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as ReturnType<typeof readHistory>;
    const steps = history.events
      .map((e) => (e as { activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; taskQueue?: { name?: string } } }).activityTaskScheduledEventAttributes)
      .filter((a) => a !== undefined)
      .map((a) => `${a.activityType?.name}@${a.taskQueue?.name === hostQueue(arch, 'host-a') ? 'a' : a.taskQueue?.name === hostQueue(arch, 'host-b') ? 'b' : 'pool'}`);
    assert.deepEqual(steps, [
      'holdSlot@pool', 'prepareWorkspace@a', 'loadFormula@a', 'shell@a', 'shell@a',
      'holdSlot@pool', 'prepareWorkspace@b', 'loadFormula@b', 'shell@b', 'shell@b', 'shell@b', 'removeWorkdir@b',
    ]);
    // The job did not wait for dead host-a's workflow cache beyond its runner.workflow_failover (1 s;
    // a loaded timer fires late), not the default 10 s: from the first timeout of host-a's
    // heartbeats to the next workflow task a live host took.
    type Event = { eventType: string; eventTime: string; workflowTaskTimedOutEventAttributes?: { timeoutType: string } };
    const events = history.events as Event[];
    const lost = events.findIndex((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT');
    assert.ok(lost >= 0, "a heartbeat of host-a's timed out");
    const taken = events.slice(lost).find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_STARTED');
    assert.ok(taken, 'a workflow task was taken after the loss');
    const waited = Date.parse(taken.eventTime) - Date.parse(events[lost]!.eventTime);
    assert.ok(waited < 9000, `the job waited ${waited} ms for dead host-a's workflow cache`);
    // Which way it went: normally the task waited on host-a's queue and was given up; if host-a's
    // last poll was over 10 s before the task (a very late heartbeat timer), the server sent it
    // straight to the shared queue. Either way the bound above holds.
    const givenUp = events.slice(lost).find((e) => e.workflowTaskTimedOutEventAttributes?.timeoutType === 'TIMEOUT_TYPE_SCHEDULE_TO_START');
    console.log(`# the job's next workflow task was taken ${waited} ms after host-a's loss was noticed, ${givenUp ? 'given up on host-a\'s own queue first' : 'sent to the shared queue directly'}`);
  } finally {
    await close();
  }
});

test('a runner stopped with SIGTERM kills its running step within the grace time and the job moves to another host', { timeout: 120_000 }, async () => {
  // A pool of its own: host-b of the test above still polls the first arch.
  const otherArch = uniqueName('arch');
  const hostC = await startWorker('host-c', otherArch, true);
  const { client, close } = await testClient();
  try {
    const { input, handle } = await slowJobInLongStep(client, otherArch, 'host-c', 'job-slow');
    // The step is 'running' as soon as it is scheduled; its processes appear a moment later. They live
    // in the job's PID namespace (the pids file holds namespace pids): found from the host by the uuid.
    const pids = (await waitForJobProcess(input.uuid, /^sleep 120$/)).map((p) => p.pid);
    await startWorker('host-d', otherArch);
    const stoppedAt = performance.now();
    const exited = new Promise<number | null>((resolve) => hostC.once('exit', (code) => resolve(code)));
    process.kill(hostC.pid!, 'SIGTERM');
    assert.equal(await exited, 0, 'the worker exits cleanly');
    const stopTook = performance.now() - stoppedAt;
    assert.deepEqual(pids.filter(processAlive), [], 'the step it was running is dead');
    assert.deepEqual(jobProcesses(input.uuid), [], 'nothing of the job is left on host-c');
    console.log(`# worker stopped ${stopTook} ms after SIGTERM (grace 1 s), step killed`);

    const result = (await handle.result()) as JobResult;
    assert.equal(result.outcome, 'PASSED');
    assert.deepEqual(result.hosts.map((h) => h.host), ['host-c', 'host-d']);
    assert.match(result.hosts[0]!.lostBecause!, /action 'wait': host host-c shut down during the step/);
  } finally {
    await close();
  }
});

test('kill -9 of a runner in the middle of its resultsdb step: the job finishes on the other host and every result is stored once', { timeout: 180_000 }, async () => {
  const resultsdb = await startResultsDBServer();
  const otherArch = uniqueName('arch');
  const env = { TASKOTRON_RESULTSDB_URL: resultsdb.url };
  const { client, close } = await testClient();
  try {
    // The second of three POSTs is stored, and its answer never comes: the runner is killed waiting for it.
    const stalled = resultsdb.stallAnswer(1);
    const hostE = await startWorker('host-e', otherArch, false, env);
    const input = localJob({ arch: otherArch }, 'three-results', { supervision: QUICK_LOSS });
    const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName('job-results'), args: [input] });
    await stalled;
    await startWorker('host-f', otherArch, false, env);
    process.kill(-hostE.pid!, 'SIGKILL');

    const result = (await handle.result()) as JobResult;
    assert.equal(result.outcome, 'INFO', result.reason);
    assert.deepEqual(result.hosts.map((h) => h.host), ['host-e', 'host-f']);
    assert.match(result.hosts[0]!.lostBecause!, /action 'report': host host-e stopped heartbeating/);
    const stored = resultsdb.results() as { testcase: string; groups: string[] }[];
    assert.deepEqual(stored.map((r) => r.testcase).sort(), ['scratch.first', 'scratch.second', 'scratch.third']);
    assert.equal(resultsdb.storedPosts(), 3, 'nothing was posted twice');
    assert.deepEqual([...new Set(stored.flatMap((r) => r.groups))], [input.uuid]);
  } finally {
    await close();
    await resultsdb.close();
  }
});

test("a slot lost while its host's step still heartbeats: the step is cancelled, the job moves on, and the lost host is not asked to remove its workdir", { timeout: 120_000 }, async () => {
  // Which ends first when a host dies, its slot or its step, is a race; here the slot loses it for
  // sure. host-a's steps run on today's runner, but its slot is a silent one (test/support/silent-slot.ts):
  // it times out while the step (stalled) still beats.
  const ownArch = uniqueName('arch');
  const root = mkdtempSync(join(tmpdir(), 'taskotron-lost-slot-'));
  writeFileSync(join(root, 'stall'), '');
  const hostA = await createRunnerWorker({
    temporal: { address: testAddress(), namespace: 'default' },
    arch: ownArch,
    hostname: 'lost-slot-a',
    workflowQueue,
    workflowsOnMainThread: true,
    poolQueue: uniqueName('unused-pool'),
    shutdownGraceMs: 1000,
    runner: { root, killGraceMs: 1000 },
  });
  const silentSlot = await startSilentSlot(testAddress(), ownArch, 'lost-slot-a');
  const running = [hostA.run(), silentSlot.run()];
  let hostB: TestRunner | undefined;
  const { client, close } = await testClient();
  try {
    const { handle } = await slowJobInLongStep(client, ownArch, 'lost-slot-a', 'job-lost-slot');
    hostB = await startTestRunner({ hostname: 'lost-slot-b', arch: ownArch, workflowQueue });

    const result = (await handle.result()) as JobResult;
    assert.equal(result.outcome, 'PASSED', result.reason);
    assert.deepEqual(result.hosts.map((h) => h.host), ['lost-slot-a', 'lost-slot-b']);
    assert.match(result.hosts[0]!.lostBecause!, /action 'wait': host lost-slot-a stopped heartbeating/);
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as ReturnType<typeof readHistory>;
    const events = history.events as Array<{
      eventType: string;
      activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; taskQueue?: { name?: string } };
      markerRecordedEventAttributes?: { details?: { 'patch-data'?: { payloads?: Array<{ data?: string }> } } };
    }>;
    const steps = events
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a !== undefined)
      .map((a) => `${a.activityType?.name}@${a.taskQueue?.name === hostQueue(ownArch, 'lost-slot-a') ? 'a' : a.taskQueue?.name === hostQueue(ownArch, 'lost-slot-b') ? 'b' : 'pool'}`);
    assert.deepEqual(steps, [
      'holdSlot@pool', 'prepareWorkspace@a', 'loadFormula@a', 'shell@a', 'shell@a',
      'holdSlot@pool', 'prepareWorkspace@b', 'loadFormula@b', 'shell@b', 'shell@b', 'shell@b', 'removeWorkdir@b',
    ]);
    assert.ok(events.some((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED'), "the step on host-a was cancelled with the slot's loss");
    const patches = events
      .flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? [])
      .map((p) => (JSON.parse(Buffer.from(p.data ?? '', 'base64').toString()) as { id: string }).id);
    assert.ok(patches.includes(LOST_HOST_NOT_ASKED_PATCH), `patches: ${patches.join(', ')}`);
  } finally {
    hostA.shutdown();
    silentSlot.shutdown();
    await Promise.all(running);
    await hostB?.stop();
    await close();
  }
});

test("a job cancelled while its host is dead ends when the slot's heartbeat times out, not after removeWorkdir's minute", { timeout: 120_000 }, async () => {
  const ownArch = uniqueName('arch');
  const host = await startWorker('dead-host', ownArch, true);
  const { client, close } = await testClient();
  try {
    // 20 s, not the 6 s of the tests above: the cancel must reach the job before the slot's heartbeat
    // (beating every 2 s) times out, or the job sees a lost host first and never asks for the removal.
    // At 10 s a loaded CI run once lost that race: the cancel's workflow task first waits out the dead
    // host's sticky queue (runner.workflow_failover, a server timer that fires late under load).
    const { handle } = await slowJobInLongStep(client, ownArch, 'dead-host', 'job-dead-cancel', { heartbeatTimeoutSeconds: 20, hostLostAfterSeconds: 25 });
    // The host dies and the operator cancels the job before anything noticed the death.
    process.kill(-host.pid!, 'SIGKILL');
    await handle.cancel();
    await assert.rejects(handle.result(), /cancelled/i);

    // The cancel asked the host (not yet known dead) to remove the workdir, outside the cancelled
    // scope; the slot's heartbeat timeout then ended the job, without waiting for that removal's
    // one-minute schedule-to-start timeout (the removal is left to the retention sweep).
    type Event = {
      eventId: string;
      eventType: string;
      activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
      activityTaskTimedOutEventAttributes?: { scheduledEventId?: string };
      activityTaskStartedEventAttributes?: { scheduledEventId?: string };
      activityTaskCompletedEventAttributes?: { scheduledEventId?: string };
      activityTaskFailedEventAttributes?: { scheduledEventId?: string };
    };
    const events = (JSON.parse(historyToJSON(await handle.fetchHistory())) as ReturnType<typeof readHistory>).events as Event[];
    const scheduledId = (name: string) => events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).map((e) => e.eventId);
    const [slot] = scheduledId('holdSlot');
    const [removal] = scheduledId('removeWorkdir');
    assert.ok(slot && removal, 'a slot was held and the removal was asked for');
    assert.equal(events.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED');
    assert.ok(
      events.some((e) => e.activityTaskTimedOutEventAttributes?.scheduledEventId === slot),
      "the slot's heartbeat timed out",
    );
    const removalEnded = events.filter((e) =>
      [e.activityTaskStartedEventAttributes, e.activityTaskCompletedEventAttributes, e.activityTaskFailedEventAttributes, e.activityTaskTimedOutEventAttributes].some(
        (a) => a?.scheduledEventId === removal,
      ),
    );
    assert.deepEqual(removalEnded, [], 'the job did not wait for the removal on the dead host');
  } finally {
    await close();
  }
});
