// Activities about the runner host itself. They run on the arch's shared queue, so whichever host
// picks one up answers for itself: that is how a job gets pinned to one machine.
//  - `holdSlot` (jobs): one per job on this host, for the job's whole life. The pool worker runs at
//    most `concurrency` of them, so a host takes a job only into a free slot and the rest wait in the
//    arch queue. It tells the job where to send its steps (a signal), then heartbeats until the job
//    lets go (cancels it, or — when the job asked for it — the job's removeWorkdir has run here and
//    the slot ends itself) — one heartbeat per held job is the host's liveness. Modelled on the Go
//    SDK's worker sessions.
//  - `claimHost`: the older, instant claim; kept for job histories recorded before slots and for the
//    pool probe.
import { arch as osArch, cpus, freemem, hostname as osHostname, platform, totalmem } from 'node:os';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { FailureType, stepFailure } from '../common/failures.js';
import { HOST_CLAIMED_SIGNAL, type SlotClaim } from '../common/job.js';
import { hostQueue } from '../common/queues.js';
import { SlotEndings } from './slot-endings.js';

export interface HostClaim {
  hostname: string;
  arch: string;
  taskQueue: string;
}

export interface HoldSlotOptions {
  /** The job will not cancel the slot after its last step: end it once `removeWorkdir` has run here. */
  endsAfterWorkdir?: boolean;
}

export interface HostDescription extends HostClaim {
  platform: string;
  machine: string;
  cpus: number;
  memoryMiB: number;
  freeMemoryMiB: number;
  node: string;
  pid: number;
}

/**
 * How often a held slot says "still here": every 2 s (what the pool worker's old 2 s throttle let
 * through), or more often for a short heartbeat timeout; each beat is a write on the server.
 */
const SLOT_HEARTBEAT_MS = 2000;
/** Once the job's last step here has run: beat this often (the pool worker's throttle) ... */
export const SLOT_ENDING_HEARTBEAT_MS = 100;
/** ... for at most this long; a job that does not let go by then goes back to the slow beat. */
const SLOT_ENDING_WINDOW_MS = 5000;

export function createHostActivities(identity: { arch: string; hostname: string }, endings: SlotEndings = new SlotEndings()) {
  const claim: HostClaim = { hostname: identity.hostname, arch: identity.arch, taskQueue: hostQueue(identity.arch, identity.hostname) };
  return {
    async claimHost(): Promise<HostClaim> {
      return claim;
    },

    /**
     * Holds one of this host's slots for the job that scheduled it, until the job cancels it or —
     * when the job asks for it (`endsAfterWorkdir`) — until the job's `removeWorkdir` has run here.
     */
    async holdSlot(options: HoldSlotOptions = {}): Promise<void> {
      const context = Context.current();
      const { workflowExecution, activityId } = context.info;
      if (!workflowExecution) throw new Error('holdSlot: only a job workflow can hold a slot');
      const job = `${workflowExecution.workflowId}/${workflowExecution.runId}`;
      const endsAfterWorkdir = options.endsAfterWorkdir === true;
      // Saying so in the claim tells the job this host will end the slot itself (an older host would not).
      const slotClaim: SlotClaim = { slotId: activityId, hostname: claim.hostname, taskQueue: claim.taskQueue, ...(endsAfterWorkdir ? { endsAfterWorkdir } : {}) };
      const beatEvery = Math.min(SLOT_HEARTBEAT_MS, (context.info.heartbeatTimeoutMs || 30_000) * 0.6);
      const beat = setInterval(() => context.heartbeat(), beatEvery);
      let ending: NodeJS.Timeout | undefined;
      const stopListening = endings.onEnding(job, () => {
        if (ending) return;
        const until = Date.now() + SLOT_ENDING_WINDOW_MS;
        ending = setInterval(() => {
          if (Date.now() > until) clearInterval(ending);
          else context.heartbeat();
        }, SLOT_ENDING_HEARTBEAT_MS);
      });
      let stopWaiting: (() => void) | undefined;
      const lastStepDone = new Promise<void>((resolve) => {
        if (endsAfterWorkdir) stopWaiting = endings.onEnded(job, resolve);
      });
      try {
        context.heartbeat();
        // To this run only: a reset job's old run must not get a host, and a job that already ended
        // answers NotFound, which ends the slot at once.
        await context.client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId).signal(HOST_CLAIMED_SIGNAL, slotClaim);
        await Promise.race([context.cancelled, lastStepDone]);
      } catch (error) {
        if (context.cancellationDetails?.workerShutdown) {
          throw stepFailure(FailureType.HostShuttingDown, `runner host ${claim.hostname} shut down while holding the job's slot`);
        }
        if (error instanceof CancelledFailure) throw error;
        // The claim could not be delivered (the job ended or was reset meanwhile): the slot is free.
        context.log.warn('could not hand the slot to its job', { job, error: (error as Error).message });
        throw error;
      } finally {
        clearInterval(beat);
        clearInterval(ending);
        stopListening();
        stopWaiting?.();
      }
    },

    async describeHost(): Promise<HostDescription> {
      return {
        ...claim,
        platform: platform(),
        machine: `${osArch()} (${osHostname()})`,
        cpus: cpus().length,
        memoryMiB: Math.round(totalmem() / 2 ** 20),
        freeMemoryMiB: Math.round(freemem() / 2 ** 20),
        node: process.version,
        pid: process.pid,
      };
    },
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
