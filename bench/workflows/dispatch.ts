// Workflows for bench/dispatch.bench.ts: N sequential no-op activities, each its own history record,
// dispatched three ways (see the bench).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

interface NoopActivities {
  noop(i: number): Promise<number>;
}

/** Activities on `queue`: another queue than the workflow's (as job steps are today), or the same. */
export async function sequentialActivities(count: number, queue: string): Promise<void> {
  const { noop } = proxyActivities<NoopActivities>({ taskQueue: queue, startToCloseTimeout: '1 minute' });
  for (let i = 0; i < count; i++) await noop(i);
}

export async function sequentialLocalActivities(count: number): Promise<void> {
  const { noop } = proxyLocalActivities<NoopActivities>({ startToCloseTimeout: '1 minute' });
  for (let i = 0; i < count; i++) await noop(i);
}
