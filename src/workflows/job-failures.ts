// How a job reads a failed step: the job ends (JobStop, with an outcome), or the host is gone and
// the job starts over elsewhere (HostLost), or the failure is a cancellation that must travel on.
// Pure: only Temporal's failure classes, no workflow APIs, so it is unit-tested on its own
// (test/job/job-failures.test.ts) and shared by every shape of the job workflow.
import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { FailureType } from '../common/failures.js';

/** Ends the job with an outcome other than a normal completion. */
export class JobStop extends Error {
  constructor(
    readonly outcome: 'CRASHED' | 'ABORTED',
    message: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}

/** The host stopped answering or shut down: the job starts over on another host. */
export class HostLost extends Error {}

/** What a classification needs to know about where the failed step ran. */
export interface StepContext {
  /** `action 'name'` or the infrastructure step's name; starts every message. */
  what: string;
  host: string | undefined;
  /** Human-readable, as configured: '30 seconds'. */
  heartbeatTimeout: string;
  /** Human-readable schedule-to-start limit on the host's queue: '300 seconds'. */
  hostLostAfter: string;
  /** The action's own time limit, when the formula set one. */
  actionTimeoutMs?: number;
}

function isCancelled(error: unknown): boolean {
  return error instanceof CancelledFailure || (error instanceof ActivityFailure && error.cause instanceof CancelledFailure);
}

/**
 * A failed step → the job's next move. Cancellations and anything that is not an activity failure
 * are returned unchanged (the caller rethrows them).
 */
export function classifyStepFailure(error: unknown, step: StepContext): Error {
  if (isCancelled(error) || !(error instanceof ActivityFailure)) return error as Error;
  const { what, host } = step;
  const cause = error.cause;
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
      return new HostLost(`${what}: host ${host} did not pick the step up within ${step.hostLostAfter}`);
    }
    if (cause.timeoutType === TimeoutType.HEARTBEAT) {
      return new HostLost(`${what}: host ${host} stopped heartbeating (no sign of life for ${step.heartbeatTimeout})`);
    }
    const limit = step.actionTimeoutMs !== undefined ? `its time limit of ${step.actionTimeoutMs / 1000} s` : 'the time left for the job';
    return new JobStop('ABORTED', `${what.startsWith('action') ? what : `step ${what}`} ran out of time (${limit})`);
  }
  if (cause instanceof ApplicationFailure && cause.type === FailureType.HostShuttingDown) {
    return new HostLost(`${what}: host ${host} shut down during the step`);
  }
  if (cause instanceof ApplicationFailure) {
    const details = (cause.details?.[0] ?? {}) as { logTail?: string };
    // Directive failures already name their action; infrastructure steps get their step name.
    const message = cause.message.startsWith(`action '`) ? cause.message : `${what}: ${cause.message}`;
    return new JobStop('CRASHED', message, details.logTail);
  }
  return new JobStop('CRASHED', `${what}: ${cause?.message ?? error.message}`);
}

/**
 * The host's slot (its `holdSlot` activity) ended while the job still held it: always a lost host,
 * named after the step the job was in, so the record reads like a failed step's. A slot that never
 * started (no runner took the job from the arch queue in time) ends the job instead.
 */
export function classifySlotFailure(error: unknown, slot: { host: string | undefined; during: string; heartbeatTimeout: string; queueTimeout: string }): Error {
  if (isCancelled(error)) return error as Error;
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (slot.host === undefined) {
    if (cause instanceof TimeoutFailure && cause.timeoutType !== TimeoutType.HEARTBEAT) {
      return new JobStop('CRASHED', `no runner took the job from the arch queue within ${slot.queueTimeout}`);
    }
    return new HostLost(`a runner took the job and failed before it could run anything: ${cause?.message ?? (error as Error).message}`);
  }
  const prefix = `${slot.during}: host ${slot.host}`;
  if (cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.HEARTBEAT) {
    return new HostLost(`${prefix} stopped heartbeating (no sign of life for ${slot.heartbeatTimeout})`);
  }
  if (cause instanceof ApplicationFailure && cause.type === FailureType.HostShuttingDown) {
    return new HostLost(`${prefix} shut down during the step`);
  }
  if (error === undefined) return new HostLost(`${prefix} gave its slot back while the job still held it`);
  return new HostLost(`${prefix} lost the job's slot: ${cause?.message ?? (error as Error).message}`);
}

/** The status an action's record takes when its step ended the job. */
export function failedActionStatus(error: unknown, stop: Error): 'cancelled' | 'timed out' | 'failed' {
  if (isCancelled(error)) return 'cancelled';
  return stop instanceof JobStop && stop.outcome === 'ABORTED' ? 'timed out' : 'failed';
}
