// The job's bookkeeping, without a server: outcomes, exit codes, action statuses, host moves, re-runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobInput } from '../../src/common/job.js';
import { HostLost, JobStop } from '../../src/workflows/job-failures.js';
import { JobRecord, runDirName } from '../../src/workflows/job-record.js';

const input: JobInput = { task: 'rpmlint', source: { kind: 'local', path: '/t' }, item: 'foo-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64', uuid: 'u1' };
const first = { workflowId: 'job-1', runId: 'aaaaaaaa-1111', firstExecutionRunId: 'aaaaaaaa-1111' };
const reset = { workflowId: 'job-1', runId: 'bbbbbbbb-2222', firstExecutionRunId: 'aaaaaaaa-1111' };

test('a first run uses the uuid; a reset run gets a directory of its own and says it is a re-run', () => {
  assert.equal(runDirName('u1', first), 'u1');
  assert.equal(runDirName('u1', reset), 'u1.rerun-bbbbbbbb');
  assert.equal(new JobRecord(input, first).result.rerunOf, undefined);
  const rerun = new JobRecord(input, reset).result;
  assert.deepEqual([rerun.runId, rerun.rerunOf], ['bbbbbbbb-2222', 'aaaaaaaa-1111']);
});

test('the outcome is the worst result, else the exit code; crash and abort set their exit codes', () => {
  const job = new JobRecord(input, first);
  const [a, b] = job.planActions([{ name: 'check', directive: 'python' }, { name: 'code', directive: 'exitcode' }]);
  job.actionStarted(a!);
  job.actionPassed(a!, { durationMs: 5, results: [{ testcase: 't', outcome: 'INFO', item: 'i', type: 'koji_build' }, { testcase: 't', outcome: 'FAILED', item: 'i', type: 'koji_build' }] });
  job.actionPassed(b!, { durationMs: 1, exitCode: 100 });
  assert.equal(job.completedOutcome(), 'FAILED');
  assert.equal(job.finish('FAILED'), '**FAILED** — 1 INFO, 1 FAILED');
  assert.deepEqual([job.result.exitCode, job.result.summary], [100, '1 INFO, 1 FAILED']);

  const noResults = new JobRecord(input, first);
  noResults.actionPassed(noResults.planActions([{ name: 'x', directive: 'exitcode' }])[0]!, { durationMs: 1, exitCode: 100 });
  assert.equal(noResults.completedOutcome(), 'FAILED');
  const crashed = new JobRecord(input, first);
  assert.equal(crashed.finish('CRASHED', 'boom', 'tail'), '**CRASHED**: boom');
  assert.deepEqual([crashed.result.exitCode, crashed.result.reason, crashed.result.logTail], [1, 'boom', 'tail']);
  const aborted = new JobRecord(input, first);
  aborted.finish('ABORTED', 'the job was cancelled');
  assert.equal(aborted.result.exitCode, 3);
});

test('a host move keeps why the host was left, and the new attempt starts with no actions run', () => {
  const job = new JobRecord(input, first);
  job.onHost('host-a');
  const [wait] = job.planActions([{ name: 'wait', directive: 'shell' }]);
  job.actionStarted(wait!);
  assert.equal(job.currentStep, "action 'wait'");
  const lost = new HostLost("action 'wait': host host-a stopped heartbeating");
  job.actionFailed(wait!, lost, lost, 1200);
  job.hostLost(lost.message);
  job.onHost('host-b');
  assert.deepEqual(job.result.hosts, [{ host: 'host-a', lostBecause: lost.message }, { host: 'host-b' }]);
  assert.equal(job.result.host, 'host-b');
  assert.deepEqual(job.result.actions, []);
  assert.deepEqual([wait!.status, wait!.durationMs], ['failed', 1200]);
});

test("an action that runs out of time is 'timed out', one that crashes is 'failed'", () => {
  const job = new JobRecord(input, first);
  const [slow, bad] = job.planActions([{ name: 'slow', directive: 'shell' }, { name: 'bad', directive: 'shell' }]);
  job.actionFailed(slow!, new Error('timeout'), new JobStop('ABORTED', "action 'slow' ran out of time"));
  job.actionFailed(bad!, new Error('exit 1'), new JobStop('CRASHED', "action 'bad': exited 1"));
  assert.deepEqual([slow!.status, bad!.status, bad!.error], ['timed out', 'failed', "action 'bad': exited 1"]);
});
