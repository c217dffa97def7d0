// A job: one task on one item on one arch. Read top to bottom, this is the story of every job —
// wait in the arch's queue until a host has a free slot, hold that slot for the whole job, run every
// step on that host (job-steps.ts), let the slot go, and finish with an outcome. If the host dies or
// shuts down, the job starts over on another host within the same time limit. Its history is the
// job record: job-record.ts keeps the books, job-failures.ts reads failures, job-progress.ts tells
// the UI.
import { ApplicationFailure } from '@temporalio/common';
import { CancellationScope, defineQuery, isCancellation, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RunnerActivities } from '../activities/index.js';
import { FailureType } from '../common/failures.js';
import { JOB_PROGRESS_QUERY, type JobInput, type JobResult } from '../common/job.js';
import { runnerQueue } from '../common/queues.js';
import { HostSlots, type HeldHost } from './host-slot.js';
import { HostLost, JobStop } from './job-failures.js';
import { describeJob, reportHost, reportOutcome, reportProgress } from './job-progress.js';
import { JobRecord, runDirName } from './job-record.js';
import { JobClock, runSteps } from './job-steps.js';

const DEFAULT_JOB_TIMEOUT_S = 2 * 3600;
const DEFAULT_MAX_HOSTS = 3;
/** How long a job waits in the arch's queue for a free runner before it gives up. */
const QUEUE_TIMEOUT = '24 hours';
/**
 * Jobs hold a host's slot for their whole life (holdSlot) and their time limit spans every host
 * attempt. Histories recorded before this took a host with the instant `claimHost` and restarted
 * the clock on each host; they replay down that path.
 */
export const HOST_SLOTS_PATCH = 'host-slots';
/**
 * A cancelled job removes its workdir on its host too (in a scope the cancel does not reach), as a
 * job that ended any other way does; before this it was left to the retention sweep. Histories of
 * cancelled jobs recorded before it replay without the step.
 */
export const CANCELLED_WORKDIR_PATCH = 'cancelled-job-removes-workdir';
/**
 * A step cancelled because its host's slot was lost is no job cancelled: the lost host is not asked
 * to remove the workdir, as when the step itself timed out first. Before this patch, a slot that timed
 * out before its step did sent removeWorkdir to the lost host's queue.
 */
export const LOST_HOST_NOT_ASKED_PATCH = 'lost-host-not-asked';

export const progressQuery = defineQuery<JobResult>(JOB_PROGRESS_QUERY);

export async function runJob(input: JobInput): Promise<JobResult> {
  const info = workflowInfo();
  const job = new JobRecord(input, info);
  setHandler(progressQuery, () => job.result);
  describeJob(input);
  const slotted = patched(HOST_SLOTS_PATCH);
  const limitMs = (input.timeoutSeconds ?? DEFAULT_JOB_TIMEOUT_S) * 1000;
  const maxHosts = input.maxHostAttempts ?? DEFAULT_MAX_HOSTS;
  const heartbeatTimeout = `${input.supervision?.heartbeatTimeoutSeconds ?? 30} seconds`;
  const hostLostAfter = `${input.supervision?.hostLostAfterSeconds ?? 300} seconds`;
  const pool = input.pool ?? runnerQueue(input.arch);
  const hosts = slotted ? new HostSlots({ pool, heartbeatTimeout, queueTimeout: QUEUE_TIMEOUT, during: () => job.currentStep }) : undefined;
  let clock: JobClock | undefined;

  try {
    for (let attempt = 1; ; attempt++) {
      reportProgress(`Waiting for a **${input.arch}** runner${attempt > 1 ? ` (host attempt ${attempt} of ${maxHosts})` : ''}`);
      const host = hosts ? await hosts.acquire(attempt) : await claimHostWithoutSlot(pool);
      job.onHost(host.hostname);
      reportHost(host.hostname);
      // The limit counts from the job's first host and covers every host after it (legacy: each host anew).
      if (!clock || !slotted) clock = new JobClock(limitMs, Date.now());
      // The job's last step on this host completed: a slot that ends itself needs no cancel.
      let lastStepDone = false;
      try {
        const dirName = runDirName(input.uuid, info);
        await host.run(async () => {
          try {
            await runSteps({
              input,
              record: job,
              host: host.hostname,
              taskQueue: host.taskQueue,
              clock: clock!,
              formulaTimeoutFrom: slotted ? clock!.startedAt : Date.now(),
              dirName,
              jobid: info.workflowId,
              attemptSuffix: slotted && attempt > 1 ? `@host${attempt}` : '',
              heartbeatTimeout,
              hostLostAfter,
            });
          } catch (error) {
            // The job ended on a host that still answers: free its disk. (A lost host is not asked.)
            if (error instanceof JobStop) lastStepDone = await removeWorkdir(host.taskQueue, input.uuid, dirName);
            // Cancelled: the cancel reaches the running step's process group through its heartbeat;
            // a removal racing the kill is retried by removeWorkdir's own retry policy.
            else if (isCancellation(error) && !(host.wasLost() && patched(LOST_HOST_NOT_ASKED_PATCH)) && patched(CANCELLED_WORKDIR_PATCH)) {
              lastStepDone = await CancellationScope.nonCancellable(() => removeWorkdir(host.taskQueue, input.uuid, dirName));
            }
            throw error;
          }
          lastStepDone = await removeWorkdir(host.taskQueue, input.uuid, dirName);
        });
        break;
      } catch (error) {
        if (!(error instanceof HostLost)) throw error;
        job.hostLost(error.message);
        log.warn('runner host lost; job starts over', { host: host.hostname, reason: error.message, attempt });
        if (attempt >= maxHosts) throw new JobStop('CRASHED', `lost ${attempt} runner hosts, giving up; last: ${error.message}`);
      } finally {
        await host.release(lastStepDone);
      }
    }
  } catch (error) {
    if (isCancellation(error)) {
      reportOutcome('ABORTED', job.finish('ABORTED', 'the job was cancelled'), input);
      throw error;
    }
    if (error instanceof JobStop) {
      reportOutcome(error.outcome, job.finish(error.outcome, error.message, error.logTail), input);
      throw ApplicationFailure.create({
        type: error.outcome === 'CRASHED' ? FailureType.JobCrashed : FailureType.JobAborted,
        message: error.message,
        nonRetryable: true,
        details: [job.result],
      });
    }
    throw error;
  }
  const outcome = job.completedOutcome();
  reportOutcome(outcome, job.finish(outcome), input);
  return job.result;
}

/**
 * The job's scratch space on its host is removed once the job is over there; artifacts stay.
 * Whether the step completed there (the host then ends a slot that ends itself).
 */
async function removeWorkdir(taskQueue: string, uuid: string, dirName: string): Promise<boolean> {
  if (!patched('remove-workdir')) return false;
  const { removeWorkdir: remove } = proxyActivities<RunnerActivities>({
    taskQueue,
    scheduleToStartTimeout: '1 minute',
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', maximumAttempts: 3 },
  });
  try {
    await remove({ uuid, dirName });
    return true;
  } catch (error) {
    // Leftover scratch space is the retention sweep's to clear; it never changes a job's outcome.
    log.warn('could not remove the job workdir', { reason: (error as Error).message });
    return false;
  }
}

/** Histories recorded before slots: an instant claim on the arch queue, nothing held, nothing to release. */
async function claimHostWithoutSlot(pool: string): Promise<HeldHost> {
  const { claimHost } = proxyActivities<RunnerActivities>({
    taskQueue: pool,
    scheduleToCloseTimeout: QUEUE_TIMEOUT,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  const claim = await claimHost();
  return { hostname: claim.hostname, taskQueue: claim.taskQueue, run: (work) => work(), wasLost: () => false, release: async () => undefined };
}
