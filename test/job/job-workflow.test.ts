// Job semantics on a real Temporal server with a real runner: actions in order on one host, exports
// flowing forward, ignorereturn, the first failure stopping the job, crash reasons with log tails,
// cancellation killing the whole process group.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JOB_WORKFLOW, type JobResult } from '../../src/common/job.js';
import { quietRuntime } from '../support/runtime.js';
import { fixtureTask, localJob, runJobToEnd, startTestRunner, type TestRunner } from '../support/job.js';
import { execFileSync } from 'node:child_process';
import { findTemporalCli } from '../../src/devserver/cli-binary.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { processAlive, waitForJobProcess, waitForNoJobProcesses } from '../support/processes.js';
import type { Client } from '@temporalio/client';

quietRuntime();

/** Running, not merely a zombie waiting for a parent (this sandbox's init may never reap it). */
describe('job workflow', () => {
  let runner: TestRunner;
  let client: Client;
  let close: () => Promise<void>;

  before(async () => {
    // The thread a long-lived `taskotron worker` runs its workflows on; the file's other runners use the main thread.
    runner = await startTestRunner({ hostname: 'builder-a', workflowsOnMainThread: false });
    ({ client, close } = await testClient());
  });
  after(async () => {
    await runner.stop();
    await close();
  });

  /** Runs the `ignorereturn` fixture on `on` and checks how it ended: CRASHED at its third action. */
  async function runIgnorereturn(on: TestRunner): Promise<JobResult> {
    const { result, failureType } = await runJobToEnd(client, on, localJob(on, 'ignorereturn'));
    assert.equal(failureType, 'JobCrashed');
    assert.equal(result.outcome, 'CRASHED');
    assert.equal(result.exitCode, 1);
    assert.deepEqual(
      result.actions.map((a) => [a.name, a.status]),
      [
        ['tolerated failure', 'passed'],
        ['use the output', 'passed'],
        ['real failure', 'failed'],
        ['never reached', 'not run'],
      ],
    );
    assert.match(result.reason!, /action 'real failure': command 2 of 2 exited with 5/);
    return result;
  }

  test('ignorereturn tolerates a failure, exports flow forward, and the first real failure stops the job as CRASHED', async () => {
    const result = await runIgnorereturn(runner);
    assert.match(result.logTail!, /about to fail/);
    const logs = readdirSync(join(result.artifacts!.dir, 'taskotron')).filter((f) => f.endsWith('.log')).sort();
    assert.deepEqual(logs, ['01-tolerated-failure.log', '02-use-the-output.log', '03-real-failure.log']);
    assert.match(readFileSync(join(result.artifacts!.dir, 'taskotron', '01-tolerated-failure.log'), 'utf8'), /exit code 7/);
  });

  test("runtask's runner runs workflows on its main thread to the same end, and the SDK keeps the 5 s activation limit there", async () => {
    // The SDK runs workflows on the main thread only in its debugMode, which lifts the limit unless
    // the runner puts it back (runner-worker.ts): this holds a future SDK to both.
    assert.deepEqual(runner.worker.workflowThread, { mainThread: false, activationLimitMs: 5000 });
    const mainThread = await startTestRunner({ workflowsOnMainThread: true });
    try {
      assert.deepEqual(mainThread.worker.workflowThread, { mainThread: true, activationLimitMs: 5000 });
      await runIgnorereturn(mainThread);
    } finally {
      await mainThread.stop();
    }
  });

  test('search attributes and memo answer "what ran on this item and how did it end" (temporal workflow list)', async () => {
    const item = `${uniqueName('searchable')}-1.0-1.fc40`;
    const { workflowId } = await runJobToEnd(client, runner, localJob(runner, 'ignorereturn', { item }));
    const query = `Item="${item}"`;
    let listed = '';
    for (let tries = 0; tries < 50 && !listed.includes(workflowId); tries++) {
      listed = execFileSync(findTemporalCli()!, ['workflow', 'list', '--address', testAddress(), '--query', query, '--output', 'json'], { encoding: 'utf8' });
      if (!listed.includes(workflowId)) await new Promise((r) => setTimeout(r, 100));
    }
    const [row] = JSON.parse(listed) as { execution: { workflowId: string }; status: string; searchAttributes: { indexedFields: Record<string, unknown> } }[];
    assert.equal(row!.execution.workflowId, workflowId);
    assert.equal(row!.status, 'WORKFLOW_EXECUTION_STATUS_FAILED');
    const description = await client.workflow.getHandle(workflowId).describe();
    const attribute = (name: string) => description.typedSearchAttributes.get({ name, type: 'KEYWORD' } as never);
    assert.deepEqual(
      ['TaskName', 'Item', 'ItemType', 'Arch', 'JobOutcome', 'RunnerHost'].map(attribute),
      ['ignorereturn', item, 'koji_build', runner.arch, 'CRASHED', 'builder-a'],
    );
    const memo = description.memo as { taskRepo: string; artifacts: string };
    assert.equal(memo.taskRepo, fixtureTask('ignorereturn'));
    assert.match(memo.artifacts, /^builder-a:\/.+\/artifacts\//);
  });

  test('a python check that raises crashes the job with the reason and the traceback in the log tail', async () => {
    const { result, failureType } = await runJobToEnd(client, runner, localJob(runner, 'crashing'));
    assert.equal(failureType, 'JobCrashed');
    assert.equal(result.outcome, 'CRASHED');
    assert.match(result.reason!, /^action 'run the check': check.py:run failed \(the callable raised, exit 1\)/);
    assert.match(result.logTail!, /RuntimeError: koji is unreachable \(simulated\)/);
    assert.equal(result.actions[1]!.status, 'not run');
  });

  test('an invalid formula crashes the job before anything runs, naming file, line and path', async () => {
    const { result } = await runJobToEnd(client, runner, localJob(runner, 'crashing', { formula: 'missing.yml' }));
    assert.equal(result.outcome, 'CRASHED');
    assert.match(result.reason!, /loadFormula: cannot read formula .*missing\.yml/);
  });

  test('cancelling a job kills every process of the running step within 5 s, removes its workdir and ends it ABORTED', async () => {
    const input = localJob(runner, 'sleepy');
    const workflowId = uniqueName('job-sleepy');
    const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: runner.workflowQueue, workflowId, args: [input] });
    // The step's processes live in the job's PID namespace: found from the host by the job's uuid. Its
    // shell starts a background sleep, then the one it waits on: both, before the cancel.
    const processes = await waitForJobProcess(input.uuid, /^sleep 300$/, { count: 2 });
    assert.ok(processes.length >= 3, `the step is running: ${JSON.stringify(processes)}`);
    const pids = processes.map((p) => p.pid);
    const cancelledAt = performance.now();
    await handle.cancel();
    await assert.rejects(handle.result(), /cancel/i);
    // A process on its way out no longer shows its environment: wait on the pids seen running too.
    while (pids.some(processAlive) && performance.now() - cancelledAt < 5_000) await new Promise((r) => setTimeout(r, 50));
    const killedAfter = performance.now() - cancelledAt;
    assert.deepEqual(pids.filter(processAlive), [], 'processes survived the cancel');
    assert.deepEqual(await waitForNoJobProcesses(input.uuid, 1_000), [], 'processes of the job survived the cancel');
    console.log(`# cancel → all ${pids.length} processes gone after ${killedAfter} ms`);
    const description = await handle.describe();
    assert.equal(description.status.name, 'CANCELLED');
    assert.equal(description.typedSearchAttributes.get({ name: 'JobOutcome', type: 'KEYWORD' } as never), 'ABORTED');
    // Its scratch space is gone as after any other ending (patched('cancelled-job-removes-workdir')),
    // removed before the job ended; its artifacts stay.
    assert.equal(existsSync(join(runner.root, 'work', input.uuid)), false, 'the cancelled job left its workdir');
    assert.equal(existsSync(join(runner.root, 'artifacts', input.uuid, 'taskotron')), true, 'the artifacts stay');
    const events = (await handle.fetchHistory()).events ?? [];
    const removal = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'removeWorkdir');
    assert.ok(removal, 'removeWorkdir was scheduled');
    const cancelAsked = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
    assert.ok(events.indexOf(removal) > cancelAsked, 'after the cancel');
    assert.ok(
      events.some((e) => e.activityTaskCompletedEventAttributes && Number(e.activityTaskCompletedEventAttributes.scheduledEventId) === Number(removal.eventId)),
      'and completed',
    );
  });

  test('an action over its time limit ends the job ABORTED with the reason', async () => {
    const { result, failureType } = await runJobToEnd(client, runner, localJob(runner, 'sleepy', { timeoutSeconds: 3 }));
    assert.equal(failureType, 'JobAborted');
    assert.equal(result.outcome, 'ABORTED');
    assert.equal(result.exitCode, 3);
    assert.match(result.reason!, /^action 'sleep' ran out of time \(the time left for the job\)/);
    const snapshot: JobResult = result;
    assert.equal(snapshot.actions[1]!.status, 'timed out');
  });
});
