// How an action's dispatch could be cheaper (the design proposal in docs/PERFORMANCE.md, "Job
// workflow"): 50 sequential no-op activities per workflow, on a server with the project's dynamic
// config plus eager activity execution, three ways, interleaved in one run:
//  - other queue: activities on a queue other than the workflow's, as job steps are today (eager
//    execution cannot apply);
//  - same queue: workflow and activities on one queue and one worker, so the server may hand each
//    activity back in the workflow-task completion (eager);
//  - local: local activities (recorded as markers), no activity dispatch at all.
// `npx tsx bench/dispatch.bench.ts [rounds]` — bounded: rounds (default 3) × 3 workflows of 50 activities.
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/devserver/server.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { BARE_WORKFLOW_QUEUE, startBareChain } from './bare-chain.js';
import { median, reportFigures } from './figures.js';

const COUNT = 50;
const rounds = Number(process.argv[2] ?? 3);
installRuntimeLogger('ERROR');
const server = await startDevServer({
  binary: ensureTemporalCli(),
  dynamicConfig: { ...DEV_SERVER_DYNAMIC_CONFIG, 'system.enableActivityEagerExecution': true },
});
const chain = await startBareChain(server.address);
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });

let serial = 0;
const ways: Record<string, () => Promise<unknown>> = {
  'other queue (today)': () => chain.run(client, `d-${serial++}`, COUNT),
  'same queue + eager': () => chain.run(client, `d-${serial++}`, COUNT, BARE_WORKFLOW_QUEUE),
  'local activities': () => chain.runLocal(client, `d-${serial++}`, COUNT),
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
  await chain.stop();
  await connection.close();
  await server.stop();
}
