// How an action's dispatch could be cheaper (the design proposal in docs/PERFORMANCE.md, "Job
// workflow"): 50 sequential no-op activities per workflow, on a server with the project's dynamic
// config plus eager activity execution, three ways, interleaved in one run:
//  - other queue: activities on a queue other than the workflow's, as job steps are today (eager
//    execution cannot apply);
//  - same queue: workflow and activities on one queue and one worker, so the server may hand each
//    activity back in the workflow-task completion (eager);
//  - local: local activities (recorded as markers), no activity dispatch at all.
// `npx tsx bench/dispatch.bench.ts [rounds]` — bounded: rounds (default 3) × 3 workflows of 50 activities.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/devserver/server.js';
import { installRuntimeLogger, quietBundlerLogger } from '../src/worker/logging.js';
import { median, reportFigures } from './figures.js';

const COUNT = 50;
const rounds = Number(process.argv[2] ?? 3);
installRuntimeLogger('ERROR');
const server = await startDevServer({
  binary: ensureTemporalCli(),
  dynamicConfig: { ...DEV_SERVER_DYNAMIC_CONFIG, 'system.enableActivityEagerExecution': true },
});
const native = await NativeConnection.connect({ address: server.address });
const activities = { noop: async (i: number) => i };
const workflowsPath = fileURLToPath(new URL('./workflows/dispatch.ts', import.meta.url));
const { bundleWorkflowCode } = await import('@temporalio/worker');
const bundle = await bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
const workflowWorker = await Worker.create({ connection: native, taskQueue: 'wf', workflowBundle: bundle, activities });
const otherWorker = await Worker.create({ connection: native, taskQueue: 'other', activities });
const running = Promise.all([workflowWorker.run(), otherWorker.run()]);
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });

let serial = 0;
const ways: Record<string, () => Promise<unknown>> = {
  'other queue (today)': () => client.workflow.execute('sequentialActivities', { taskQueue: 'wf', workflowId: `d-${serial++}`, args: [COUNT, 'other'] }),
  'same queue + eager': () => client.workflow.execute('sequentialActivities', { taskQueue: 'wf', workflowId: `d-${serial++}`, args: [COUNT, 'wf'] }),
  'local activities': () => client.workflow.execute('sequentialLocalActivities', { taskQueue: 'wf', workflowId: `d-${serial++}`, args: [COUNT] }),
};
const times: Record<string, number[]> = {};
try {
  for (const run of Object.values(ways)) await run(); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(ways)) {
      const t0 = performance.now();
      await run();
      (times[name] ??= []).push((performance.now() - t0) / COUNT);
    }
  }
  const today = median(times['other queue (today)']!);
  for (const [name, xs] of Object.entries(times)) {
    console.log(`${name.padEnd(22)} per activity: median ${median(xs).toFixed(1)} ms  [${xs.map((x) => x.toFixed(1)).join(', ')}]  ratio to today ${(median(xs) / today).toFixed(2)}`);
  }
  reportFigures('dispatch', [
    { figure: 'dispatch: no-op activity, same queue + eager vs another queue', goal: 'info', measured: median(times['same queue + eager']!), unit: 'ms', baseline: today, ratio: median(times['same queue + eager']!) / today, met: true },
    { figure: 'dispatch: local activity vs activity on another queue', goal: 'info', measured: median(times['local activities']!), unit: 'ms', baseline: today, ratio: median(times['local activities']!) / today, met: true },
  ]);
} finally {
  workflowWorker.shutdown();
  otherWorker.shutdown();
  await running;
  await connection.close();
  await server.stop();
}
