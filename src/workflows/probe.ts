// A health probe of an arch's runner pool, and the smallest instance of the pattern every job uses:
// claim a host through the arch's shared queue, then run the next step on that host's own queue.
import { proxyActivities } from '@temporalio/workflow';
import type { HostDescription, RunnerActivities } from '../activities/index.js';
import { runnerQueue } from '../common/queues.js';

export interface ProbeRunnerPoolInput {
  arch: string;
}

export async function probeRunnerPool(input: ProbeRunnerPoolInput): Promise<HostDescription> {
  const pool = proxyActivities<RunnerActivities>({
    taskQueue: runnerQueue(input.arch),
    // Nobody may be polling this arch yet: wait up to 10 minutes for a runner to appear.
    scheduleToCloseTimeout: '10 minutes',
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  const claim = await pool.claimHost();
  const host = proxyActivities<RunnerActivities>({
    taskQueue: claim.taskQueue,
    // Only that host polls its queue; if it vanished, give up rather than wait forever.
    scheduleToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });
  return host.describeHost();
}
