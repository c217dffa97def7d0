// A runner slot that claims its job for a host and then never beats: the job loses the slot after
// its heartbeat timeout while that host's own steps go on beating. Which of the two times out first
// when a real host dies is a race; this makes the slot lose it for sure (test/job/host-loss.test.ts,
// scripts/record-histories.ts).
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { HOST_CLAIMED_SIGNAL, type SlotClaim } from '../../src/common/job.js';
import { hostQueue, runnerQueue } from '../../src/common/queues.js';

export interface SilentSlot {
  run(): Promise<void>;
  shutdown(): void;
}

/** A pool worker on `arch`'s queue whose one holdSlot claims the job for `hostname`, then stays silent. */
export async function startSilentSlot(address: string, arch: string, hostname: string): Promise<SilentSlot> {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue: runnerQueue(arch),
    // Busy with the silent slot for good: the job's next slot goes to another host.
    maxConcurrentActivityTaskExecutions: 1,
    activities: {
      async holdSlot(): Promise<void> {
        const context = Context.current();
        const { workflowExecution, activityId } = context.info;
        const claim: SlotClaim = { slotId: activityId, hostname, taskQueue: hostQueue(arch, hostname), endsAfterWorkdir: true };
        await context.client.workflow.getHandle(workflowExecution!.workflowId, workflowExecution!.runId).signal(HOST_CLAIMED_SIGNAL, claim);
        await context.cancelled;
      },
    },
  });
  const running = worker.run().finally(() => connection.close());
  return { run: () => running, shutdown: () => worker.shutdown() };
}
