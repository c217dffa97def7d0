// The bare Temporal chain the benches compare the job with: N sequential no-op activities
// (bench/workflows/dispatch.ts), the workflow on one queue and, by default, the activities on
// another, as a job's steps are. One worker per queue on the given server; the workflow queue's
// worker also runs the activities, so a chain on that queue can be handed back eagerly.
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { quietBundlerLogger } from '../src/worker/bundle.js';

export const BARE_WORKFLOW_QUEUE = 'bare-wf';
export const BARE_ACTIVITY_QUEUE = 'bare-activities';

let bundle: ReturnType<typeof bundleWorkflowCode> | undefined;

export interface BareChain {
  /** Runs a chain of `count` activities on `activityQueue` to its end; returns the workflow id. */
  run(client: Client, workflowId: string, count: number, activityQueue?: string): Promise<string>;
  /** Runs `count` local activities instead (markers in history, no dispatch). */
  runLocal(client: Client, workflowId: string, count: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startBareChain(address: string): Promise<BareChain> {
  bundle ??= bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows/dispatch.ts', import.meta.url)), logger: quietBundlerLogger });
  const connection = await NativeConnection.connect({ address });
  const activities = { noop: async (i: number) => i };
  const workers = [
    await Worker.create({ connection, taskQueue: BARE_WORKFLOW_QUEUE, workflowBundle: await bundle, activities }),
    await Worker.create({ connection, taskQueue: BARE_ACTIVITY_QUEUE, activities }),
  ];
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    async run(client, workflowId, count, activityQueue = BARE_ACTIVITY_QUEUE) {
      await client.workflow.execute('sequentialActivities', { taskQueue: BARE_WORKFLOW_QUEUE, workflowId, args: [count, activityQueue] });
      return workflowId;
    },
    async runLocal(client, workflowId, count) {
      await client.workflow.execute('sequentialLocalActivities', { taskQueue: BARE_WORKFLOW_QUEUE, workflowId, args: [count] });
      return workflowId;
    },
    async stop() {
      for (const w of workers) w.shutdown();
      await running;
      await connection.close();
    },
  };
}
