// Where a job's per-action time goes, two kinds of chain side by side on one dev server: the median
// time between consecutive history events of each kind per action (the steady part only: from the
// first action on), round after round, the pair's order flipping every round so a loaded machine
// slows both alike.
//
//   npx tsx bench/handoff-ab.ts [pair=dummy-vs-bare] [rounds=6]
//
// Pairs:
//   dummy-vs-bare   a job of 50 `dummy` actions against the bare chain of 50 no-op activities
//                   (bench/bare-chain.ts): what the job workflow and its activity add to Temporal's own
//                   round trip, with no process started;
//   bwrap-vs-none   a job of 50 `shell: [[true]]` actions on a runner with the bubblewrap sandbox
//                   (one sandbox per job, the default) against one with sandbox `none`: where the sandbox's
//                   cost shows up.
// Not part of `npm run bench`: a tool for finding where time goes, not a figure.
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultRunnerConfig } from '../src/activities/runner-config.js';
import { JOB_WORKFLOW, type JobInput, type JobResult } from '../src/common/job.js';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/devserver/server.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { createRunnerWorker, type RunnerWorker } from '../src/worker/runner-worker.js';
import { startBareChain } from './bare-chain.js';
import { median } from './figures.js';
import { eventMs, isJobAction, stepHandOffs, type HistoryEvent } from './history-steps.js';
import { writeBenchTask } from './job-task.js';

const ACTIONS = 50;
const pair = process.argv[2] ?? 'dummy-vs-bare';
const rounds = Number(process.argv[3] ?? 6);
if (pair !== 'dummy-vs-bare' && pair !== 'bwrap-vs-none') throw new Error(`unknown pair '${pair}' (dummy-vs-bare, bwrap-vs-none)`);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new Error('rounds: 1 to 50');

const scratch = mkdtempSync(join(tmpdir(), 'taskotron-handoff-'));
const task = (name: string, directive: string): string => writeBenchTask(scratch, name, directive, ACTIONS);

installRuntimeLogger('ERROR');
const server = await startDevServer({ binary: ensureTemporalCli(), dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG, dbFile: join(scratch, 'temporal.db') });
const temporal = { address: server.address, namespace: server.namespace };
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection, namespace: server.namespace });
const runners: Array<{ worker: RunnerWorker; running: Promise<void> }> = [];
async function runner(arch: string, sandbox = defaultRunnerConfig().sandbox): Promise<void> {
  const worker = await createRunnerWorker({ temporal, arch, hostname: 'handoff-host', workflowQueue: arch, runner: { root: join(scratch, `runner-${arch}`), sandbox } });
  runners.push({ worker, running: worker.run() });
}

async function job(arch: string, dir: string, id: string): Promise<string> {
  const input: JobInput = { task: 'handoff', source: { kind: 'local', path: dir }, item: 'handoff-1.0-1.fc40', itemType: 'koji_build', arch, uuid: id };
  const result = (await client.workflow.execute(JOB_WORKFLOW, { taskQueue: arch, workflowId: id, args: [input] })) as JobResult;
  if (result.outcome !== 'PASSED') throw new Error(`${id} ended ${result.outcome}: ${result.reason}`);
  return id;
}

interface Side {
  label: string;
  run(round: number): Promise<string>;
  /** Where the steady part starts: the first action's scheduling. */
  first(e: HistoryEvent): boolean;
}
let sides: [Side, Side];
let stopBare = async () => {};
if (pair === 'dummy-vs-bare') {
  await runner('handoff-dummy');
  const dummies = task('dummies', 'dummy:\n      result: PASS');
  const bare = await startBareChain(server.address);
  stopBare = () => bare.stop();
  sides = [
    { label: 'job of dummy', run: (r) => job('handoff-dummy', dummies, `dummy-${r}`), first: isJobAction },
    { label: 'bare chain', run: (r) => bare.run(client, `bare-${r}`, ACTIONS), first: (e) => Boolean(e.activityTaskScheduledEventAttributes) },
  ];
} else {
  await runner('handoff-bwrap');
  await runner('handoff-none', { ...defaultRunnerConfig().sandbox, backend: 'none' });
  const trues = task('trues', 'shell:\n      - [true]');
  sides = [
    { label: 'bwrap', run: (r) => job('handoff-bwrap', trues, `bwrap-${r}`), first: isJobAction },
    { label: 'none', run: (r) => job('handoff-none', trues, `none-${r}`), first: isJobAction },
  ];
}

/**
 * Median and mean ms per hand-off of the steady part (a mean well above its median is a hand-off that
 * stalls now and then), and the run's fixed part (before the first action + after the last) per action.
 */
async function handOffs(workflowId: string, first: (e: HistoryEvent) => boolean): Promise<Map<string, number>> {
  const { handOffs: steady, events } = await stepHandOffs(client, workflowId, first, ACTIONS / 2);
  const lastCompleted = events.findLastIndex((e) => e.activityTaskCompletedEventAttributes);
  const fixed = eventMs(events.find(first)!) - eventMs(events[0]!) + eventMs(events.at(-1)!) - eventMs(events[lastCompleted]!);
  return new Map([
    ...steady.map((h) => [h.key, h.median] as [string, number]),
    ...steady.map((h) => [`(mean) ${h.key}`, h.mean] as [string, number]),
    ['(fixed part ÷ actions: before the first + after the last)', fixed / ACTIONS],
  ]);
}

const totals = sides.map(() => [] as number[]);
const stages = sides.map(() => new Map<string, number[]>());
try {
  console.log(`${pair}: ${rounds} rounds of ${ACTIONS} actions each; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const side of sides) await side.run(-1); // warm-up: bundle, caches, first SQLite writes
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) {
      const started = performance.now();
      const id = await sides[k]!.run(round);
      totals[k]!.push((performance.now() - started) / ACTIONS);
      for (const [key, ms] of await handOffs(id, sides[k]!.first)) stages[k]!.set(key, [...(stages[k]!.get(key) ?? []), ms]);
    }
  }
  const cell = (xs: number[] | undefined) => (xs ? median(xs).toFixed(2) : '—').padStart(8);
  console.log(`${'per action (median of rounds, ms)'.padEnd(58)}${sides[0].label.padStart(14)}${sides[1].label.padStart(14)}`);
  console.log(`${'whole run ÷ actions (fixed part included)'.padEnd(58)}${cell(totals[0]).padStart(14)}${cell(totals[1]).padStart(14)}`);
  let sums = [0, 0];
  let meanSums = [0, 0];
  for (const key of new Set([...stages[0]!.keys(), ...stages[1]!.keys()])) {
    console.log(`${key.padEnd(58)}${cell(stages[0]!.get(key)).padStart(14)}${cell(stages[1]!.get(key)).padStart(14)}`);
    const sumOf = (k: number) => (stages[k]!.get(key) ? median(stages[k]!.get(key)!) : 0);
    if (!key.startsWith('(')) sums = sums.map((s, k) => s + sumOf(k));
    if (key.startsWith('(mean) ')) meanSums = meanSums.map((s, k) => s + sumOf(k));
  }
  console.log(`${'sum of the hand-offs (the steady step)'.padEnd(58)}${sums[0]!.toFixed(2).padStart(14)}${sums[1]!.toFixed(2).padStart(14)}`);
  console.log(`${'sum of their means (the steady step with its stalls)'.padEnd(58)}${meanSums[0]!.toFixed(2).padStart(14)}${meanSums[1]!.toFixed(2).padStart(14)}`);
  console.log(`load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  for (const r of runners) r.worker.shutdown();
  await Promise.all(runners.map((r) => r.running));
  await stopBare();
  await connection.close();
  await server.stop();
}
