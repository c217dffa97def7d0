// What a new workflow costs the worker before its code runs, with the project's bundle options
// (src/worker/bundle.ts: the workflows preloaded into the worker's shared V8 context) against the
// SDK's defaults, on the same workflows: the time to create a workflow (the SDK's reusable-VM creator:
// a new activator and, without preloading, every imported module evaluated again), and the heap a
// created workflow holds while it waits in the worker's cache.
// Run: npx tsx bench/workflow-create.bench.ts [workflows per round]   (bounded: 5 rounds)
//
// It drives the SDK's internal workflow creator (@temporalio/worker/lib/workflow/reusable-vm.js)
// directly: through a server the ~1 ms would be lost in the noise of a workflow task's 10-20 ms.
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../src/worker/bundle.js';
import { quietBundlerLogger } from '../src/worker/bundle.js';
import { workflowsPath } from '../src/worker/runner-worker.js';
import { median, reportFigures } from './figures.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

interface CreatedWorkflow {
  dispose(): Promise<void>;
}
interface Creator {
  createWorkflow(options: unknown): Promise<CreatedWorkflow>;
}
const require = createRequire(import.meta.url);
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm.js') as {
  ReusableVMWorkflowCreator: { create(bundle: unknown, timeoutMs: number, activities: Set<string>): Promise<Creator> };
};
const { parseWorkflowCode } = require('@temporalio/worker/lib/worker.js') as { parseWorkflowCode(code: string, path: string): unknown };

const N = Number(process.argv[2] ?? 300);
const activities = new Set(['holdSlot', 'prepareWorkspace', 'loadFormula']);
const sdkDefaults = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietBundlerLogger });
const ours = await bundleWorkflowCode(workflowBundleOptions(workflowsPath()));
const creators = {
  preloaded: await ReusableVMWorkflowCreator.create(parseWorkflowCode(ours.code, '/bench/preloaded-bundle.js'), 5000, activities),
  sdkDefaults: await ReusableVMWorkflowCreator.create(parseWorkflowCode(sdkDefaults.code, '/bench/default-bundle.js'), 5000, activities),
};

let runs = 0;
// The options the worker passes for a new run of the job or the trigger workflow (their first task).
const createOptions = (workflowType: string) => {
  const runId = `run-${runs++}`;
  return {
    info: { workflowType, workflowId: `wf-${runId}`, runId, taskQueue: 'bench', namespace: 'default', attempt: 1, historyLength: 3, unsafe: { isReplaying: false, now: () => Date.now() } },
    randomnessSeed: [1, 2],
    now: Date.now(),
    showStackTraceSources: false,
  };
};

async function createMs(creator: Creator): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await (await creator.createWorkflow(createOptions(i % 2 ? 'runJob' : 'triggerJobs'))).dispose();
  return (performance.now() - t0) / N;
}

async function heapKiB(creator: Creator): Promise<number> {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const cached: CreatedWorkflow[] = [];
  for (let i = 0; i < N; i++) cached.push(await creator.createWorkflow(createOptions('runJob')));
  collectGarbage();
  const perWorkflow = (process.memoryUsage().heapUsed - before) / N / 1024;
  for (const workflow of cached) await workflow.dispose();
  return perWorkflow;
}

await createMs(creators.preloaded); // warm-up, both sides
await createMs(creators.sdkDefaults);
const times = { preloaded: [] as number[], sdkDefaults: [] as number[] };
const heaps = { preloaded: [] as number[], sdkDefaults: [] as number[] };
for (let round = 0; round < 5; round++) {
  // Alternated, so neither side always runs on the warmer (or the more loaded) half of the round.
  const order = round % 2 === 0 ? (['preloaded', 'sdkDefaults'] as const) : (['sdkDefaults', 'preloaded'] as const);
  for (const side of order) times[side].push(await createMs(creators[side]));
  for (const side of order) heaps[side].push(await heapKiB(creators[side]));
  console.log(`round ${round}: create a workflow ${times.preloaded.at(-1)!.toFixed(3)} ms preloaded vs ${times.sdkDefaults.at(-1)!.toFixed(3)} ms SDK defaults; heap per cached workflow ${heaps.preloaded.at(-1)!.toFixed(1)} vs ${heaps.sdkDefaults.at(-1)!.toFixed(1)} KiB`);
}
const t = { preloaded: median(times.preloaded), sdkDefaults: median(times.sdkDefaults) };
const h = { preloaded: median(heaps.preloaded), sdkDefaults: median(heaps.sdkDefaults) };
console.log(`median of ${N} workflows x 5 rounds: create ${t.preloaded.toFixed(3)} vs ${t.sdkDefaults.toFixed(3)} ms (${(t.preloaded / t.sdkDefaults).toFixed(2)}); heap ${h.preloaded.toFixed(1)} vs ${h.sdkDefaults.toFixed(1)} KiB (${(h.preloaded / h.sdkDefaults).toFixed(2)})`);
reportFigures('workflow-create', [
  { figure: 'workflow creation in the worker, workflows preloaded vs SDK default bundle', goal: 'info', measured: t.preloaded, unit: 'ms', baseline: t.sdkDefaults, ratio: t.preloaded / t.sdkDefaults, met: true },
  { figure: 'heap per cached workflow, workflows preloaded vs SDK default bundle', goal: 'info', measured: h.preloaded, unit: 'KiB', baseline: h.sdkDefaults, ratio: h.preloaded / h.sdkDefaults, met: true },
]);
