// The job's reading of failures, without a server: every kind of failed step and lost slot, built
// the way the SDK hands them to workflow code (ActivityFailure wrapping the cause).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { FailureType } from '../../src/common/failures.js';
import { classifySlotFailure, classifyStepFailure, failedActionStatus, HostLost, JobStop } from '../../src/workflows/job-failures.js';

function activityFailure(cause: Error): ActivityFailure {
  return new ActivityFailure('activity failed', 'shell', '2-shell', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);
}

const step = { what: "action 'wait'", host: 'host-a', heartbeatTimeout: '30 seconds', hostLostAfter: '300 seconds' };
const slot = { host: 'host-a', during: "action 'wait'", heartbeatTimeout: '30 seconds', queueTimeout: '24 hours' };

test('a heartbeat timeout or a never-started step is a lost host, named after the step', () => {
  const silent = classifyStepFailure(activityFailure(new TimeoutFailure(undefined, undefined, TimeoutType.HEARTBEAT)), step);
  assert.ok(silent instanceof HostLost);
  assert.equal(silent.message, "action 'wait': host host-a stopped heartbeating (no sign of life for 30 seconds)");
  const unpicked = classifyStepFailure(activityFailure(new TimeoutFailure(undefined, undefined, TimeoutType.SCHEDULE_TO_START)), { ...step, what: 'prepareWorkspace' });
  assert.ok(unpicked instanceof HostLost);
  assert.equal(unpicked.message, 'prepareWorkspace: host host-a did not pick the step up within 300 seconds');
});

test('a host shutting down moves the job; running out of time aborts it, naming which limit', () => {
  const shutdown = classifyStepFailure(activityFailure(ApplicationFailure.create({ type: FailureType.HostShuttingDown, message: 'bye' })), step);
  assert.ok(shutdown instanceof HostLost);
  assert.equal(shutdown.message, "action 'wait': host host-a shut down during the step");
  const ownLimit = classifyStepFailure(activityFailure(new TimeoutFailure(undefined, undefined, TimeoutType.START_TO_CLOSE)), { ...step, actionTimeoutMs: 5000 });
  assert.ok(ownLimit instanceof JobStop);
  assert.deepEqual([ownLimit.outcome, ownLimit.message], ['ABORTED', "action 'wait' ran out of time (its time limit of 5 s)"]);
  const jobLimit = classifyStepFailure(activityFailure(new TimeoutFailure(undefined, undefined, TimeoutType.START_TO_CLOSE)), { ...step, what: 'loadFormula' });
  assert.equal(jobLimit.message, 'step loadFormula ran out of time (the time left for the job)');
});

test("an application failure crashes the job with its log tail; a directive's own message keeps its action name", () => {
  const infra = classifyStepFailure(activityFailure(ApplicationFailure.create({ type: FailureType.CheckoutFailed, message: 'git clone failed', details: [{ logTail: 'fatal: nope' }] })), { ...step, what: 'prepareWorkspace' });
  assert.ok(infra instanceof JobStop);
  assert.deepEqual([infra.outcome, infra.message, infra.logTail], ['CRASHED', 'prepareWorkspace: git clone failed', 'fatal: nope']);
  const directive = classifyStepFailure(activityFailure(ApplicationFailure.create({ type: FailureType.CommandFailed, message: "action 'wait': command 1 of 1 exited with 5" })), step);
  assert.equal(directive.message, "action 'wait': command 1 of 1 exited with 5");
});

test('cancellations and non-activity errors pass through unchanged', () => {
  const cancelled = activityFailure(new CancelledFailure('cancelled'));
  assert.equal(classifyStepFailure(cancelled, step), cancelled);
  const plain = new Error('bug');
  assert.equal(classifyStepFailure(plain, step), plain);
  assert.equal(failedActionStatus(cancelled, cancelled), 'cancelled');
  assert.equal(failedActionStatus(plain, new JobStop('ABORTED', 'late')), 'timed out');
  assert.equal(failedActionStatus(plain, new JobStop('CRASHED', 'boom')), 'failed');
});

test('a lost slot is always a lost host, named after the step the job was in', () => {
  const dead = classifySlotFailure(activityFailure(new TimeoutFailure(undefined, undefined, TimeoutType.HEARTBEAT)), slot);
  assert.ok(dead instanceof HostLost);
  assert.equal(dead.message, "action 'wait': host host-a stopped heartbeating (no sign of life for 30 seconds)");
  const stopped = classifySlotFailure(activityFailure(ApplicationFailure.create({ type: FailureType.HostShuttingDown, message: 'bye' })), slot);
  assert.equal(stopped.message, "action 'wait': host host-a shut down during the step");
  const returned = classifySlotFailure(undefined, slot);
  assert.ok(returned instanceof HostLost);
  assert.match(returned.message, /gave its slot back while the job still held it/);
  const cancelled = activityFailure(new CancelledFailure('cancelled'));
  assert.equal(classifySlotFailure(cancelled, slot), cancelled);
});

test('a slot nobody took within the queue timeout ends the job; one that failed before its claim moves it', () => {
  const unclaimed = classifySlotFailure(activityFailure(new TimeoutFailure(undefined, undefined, TimeoutType.SCHEDULE_TO_START)), { ...slot, host: undefined });
  assert.ok(unclaimed instanceof JobStop);
  assert.equal(unclaimed.message, 'no runner took the job from the arch queue within 24 hours');
  const early = classifySlotFailure(activityFailure(ApplicationFailure.create({ message: 'signal failed' })), { ...slot, host: undefined });
  assert.ok(early instanceof HostLost);
});
