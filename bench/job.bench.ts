// Per-action overhead of the job workflow: a 50-action job of `true` commands on the dev server vs
// the same 50 commands spawned one after another by a separate small Node process (a plain spawn as
// any program makes it, and as the runner's own small spawner process does), measured in the same
// run. Until 2026-12-03 the baseline was spawned from the bench process itself, which also hosts the
// workers, clients and their threads: a spawn from there cost 2–7 ms more than from a small process
// (docs/PERFORMANCE.md), which flattered the figure; that baseline is still measured, for bwrap's
// start-up (spawned from the same process) and as an info figure. A third
// figure, a 50-action job of `dummy` actions (an activity that starts no process), shows how much of
// the overhead is Temporal's own round trip per activity on this server. The history of the last
// job of each kind is read back to say where a hand-off's time goes (median per event pair).
// The product's default sandbox is bubblewrap (every command in fresh namespaces), so the bench also
// runs the job of `true` on a runner with `sandbox: none` and spawns `true` under the same bwrap
// arguments: the overhead with the sandbox, without it, and what bwrap's own start-up is.
// `npx tsx bench/job.bench.ts [rounds]` — bounded: rounds (default 5) × (50 spawns + two 50-action jobs)
// per server variant. BENCH_JOB_VARIANTS=stock,raised,eager,partitions4 compares server settings in
// one run (each its own server and worker, rounds interleaved): stock = the server's own dynamic
// config, raised = the project's (DEV_SERVER_DYNAMIC_CONFIG), eager = raised + eager activity
// execution, partitions4 = raised with tasks written to the stock four partitions of each queue.
// Each round also runs a bare TS-SDK chain of 50 no-op activities on the same server (the workflow on
// one queue, the activities on another, as a job's steps are): the steady time per action of the job
// of `dummy` against it is what the job's own code adds to Temporal's round trip, on any host.
// BENCH_JOB_SPAWN_AB=1 also runs each round's job of `true` with TASKOTRON_SPAWNER=direct (the runner
// spawning its commands itself instead of through its spawner), in alternating order, and prints both.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Client, Connection } from '@temporalio/client';
import { JOB_WORKFLOW, type JobInput, type JobResult } from '../src/common/job.js';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { projectRoot } from '../src/devserver/project.js';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer, type DevServer } from '../src/devserver/server.js';
import { bubblewrap } from '../src/activities/sandbox.js';
import { defaultRunnerConfig } from '../src/activities/runner-config.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { createRunnerWorker, type RunnerWorker } from '../src/worker/runner-worker.js';
import { startBareChain, type BareChain } from './bare-chain.js';
import { median, reportFigures } from './figures.js';
import { writeBenchTask } from './job-task.js';
import { eventMs, isJobAction, stepHandOffs, type HandOff, type HistoryEvent } from './history-steps.js';

const ACTIONS = 50;
const rounds = Number(process.argv[2] ?? 5);
const VARIANTS: Record<string, Record<string, unknown>> = {
  stock: {},
  raised: DEV_SERVER_DYNAMIC_CONFIG,
  eager: { ...DEV_SERVER_DYNAMIC_CONFIG, 'system.enableActivityEagerExecution': true },
  // The project's settings but tasks written to the stock four partitions of each queue (before 81bddf6).
  partitions4: { ...DEV_SERVER_DYNAMIC_CONFIG, 'matching.numTaskqueueWritePartitions': 4 },
};
const chosen = (process.env.BENCH_JOB_VARIANTS ?? 'raised').split(',').map((v) => v.trim());
for (const name of chosen) if (!VARIANTS[name]) throw new Error(`BENCH_JOB_VARIANTS: unknown variant '${name}' (known: ${Object.keys(VARIANTS).join(', ')})`);

const scratch = mkdtempSync(join(tmpdir(), 'taskotron-bench-'));
const task = (name: string, directive: string): string => writeBenchTask(scratch, name, directive, ACTIONS);
const taskdir = task('fifty-trues', 'shell:\n      - [true]');
const dummydir = task('fifty-dummies', 'dummy:\n      result: PASS');

interface Variant {
  name: string;
  server: DevServer;
  worker: RunnerWorker;
  running: Promise<void>;
  connection: Connection;
  client: Client;
  jobs: number[];
  dummies: number[];
  /** Per-action overhead over the small-process baseline (the goal), and over a spawn from this process. */
  overheads: number[];
  inProcessOverheads: number[];
  lastIds: { shell?: string; dummy?: string; unsandboxed?: string };
  /** The same server with a runner whose sandbox is `none` (its own arch and queues). */
  plain: RunnerWorker;
  plainRunning: Promise<void>;
  unsandboxed: number[];
  unsandboxedOverheads: number[];
  /** Each job of `true`'s fixed part (ms, from its history: before the first action + after the last). */
  fixed: number[];
  directJobs: number[];
  /** Jobs of `true` whose every command set up a sandbox of its own (TASKOTRON_SANDBOX_PRESTART=off), and their overheads. */
  coldJobs: number[];
  coldOverheads: number[];
  spawnerJobs: number[];
  /** The bare chain on this server (see the header) and each round's steady ms per action, dummy and bare. */
  bare: BareChain;
  dummySteady: number[];
  bareSteady: number[];
}

installRuntimeLogger('ERROR');
const binary = ensureTemporalCli();
const variants: Variant[] = [];
for (const name of chosen) {
  const server = await startDevServer({
    binary,
    dynamicConfig: VARIANTS[name]!,
    ...(process.env.BENCH_MEMORY ? {} : { dbFile: join(scratch, `${name}.db`) }),
  });
  const worker = await createRunnerWorker({
    temporal: { address: server.address, namespace: server.namespace },
    arch: 'bench',
    hostname: 'bench-host',
    workflowQueue: 'bench',
    runner: { root: join(scratch, `runner-${name}`) },
  });
  const plain = await createRunnerWorker({
    temporal: { address: server.address, namespace: server.namespace },
    arch: 'bench-nosandbox',
    hostname: 'bench-host',
    workflowQueue: 'bench-nosandbox',
    runner: { root: join(scratch, `runner-${name}-nosandbox`), sandbox: { ...defaultRunnerConfig().sandbox, backend: 'none' } },
  });
  const connection = await Connection.connect({ address: server.address });
  const bare = await startBareChain(server.address);
  variants.push({ name, server, worker, running: worker.run(), plain, plainRunning: plain.run(), connection, client: new Client({ connection }), jobs: [], dummies: [], overheads: [], inProcessOverheads: [], lastIds: {}, unsandboxed: [], unsandboxedOverheads: [], fixed: [], directJobs: [], coldJobs: [], coldOverheads: [], spawnerJobs: [], bare, dummySteady: [], bareSteady: [] });
}

// `true` under the very arguments the bwrap backend gives a job's command (network on, the default).
const sandboxRoot = join(scratch, 'bwrap-baseline');
for (const dir of ['work', 'artifacts', 'tmp', 'home']) mkdirSync(join(sandboxRoot, dir), { recursive: true });
const bwrapTrue = bubblewrap.wrap(['true'], taskdir, {
  writable: [join(sandboxRoot, 'work'), join(sandboxRoot, 'artifacts')],
  readable: [taskdir],
  tmp: join(sandboxRoot, 'tmp'),
  home: join(sandboxRoot, 'home'),
  // The runner's home is hidden from jobs, as jobSandboxSpec does.
  hideDirs: homedir() && homedir() !== '/' ? [homedir()] : [],
  hideFiles: [],
  network: defaultRunnerConfig().sandbox.network,
});

async function baseline(argv = ['true']): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ACTIONS; i++) await execa(argv[0]!, argv.slice(1), { cwd: taskdir, stdin: 'ignore' });
  return performance.now() - started;
}

// The goal's baseline: the same 50 spawns (execa too) from a separate Node process that does nothing
// else; its own start-up is not timed.
const SMALL_PROCESS_SPAWNS = `import { execa } from 'execa';
const started = performance.now();
for (let i = 0; i < ${ACTIONS}; i++) await execa('true', [], { cwd: process.argv[1], stdin: 'ignore' });
process.stdout.write(String(performance.now() - started));`;
async function smallProcessBaseline(): Promise<number> {
  const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', SMALL_PROCESS_SPAWNS, taskdir], { cwd: projectRoot() });
  const ms = Number(stdout);
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`the small-process baseline printed ${JSON.stringify(stdout)}`);
  return ms;
}

async function job(variant: Variant, round: number, dir = taskdir, unsandboxed = false): Promise<number> {
  const kind = unsandboxed ? 'unsandboxed' : dir === taskdir ? 'shell' : 'dummy';
  const id = `bench-${round}-${kind}`;
  const arch = unsandboxed ? 'bench-nosandbox' : 'bench';
  const input: JobInput = { task: 'bench', source: { kind: 'local', path: dir }, item: 'bench-1.0-1.fc40', itemType: 'koji_build', arch, uuid: id };
  const started = performance.now();
  const result = (await variant.client.workflow.execute(JOB_WORKFLOW, { taskQueue: arch, workflowId: id, args: [input] })) as JobResult;
  const elapsed = performance.now() - started;
  if (result.outcome !== 'PASSED') throw new Error(`bench job ended ${result.outcome}: ${result.reason}`);
  variant.lastIds[kind] = id;
  return elapsed;
}

/** Time between consecutive events of each kind pair, over the steady part of a job (the actions). */
async function handOffs(client: Client, workflowId: string): Promise<HandOff[]> {
  // Skip the set-up (claim, workspace, formula); keep the actions' steady state.
  return (await stepHandOffs(client, workflowId, isJobAction, ACTIONS / 2)).handOffs;
}

/**
 * The job's fixed part, read from its history: what it costs before the first action is scheduled
 * and after the last one completed, and the big pieces of each (ms). Everything else in a job is
 * the actions' own hand-offs.
 */
async function fixedParts(client: Client, workflowId: string): Promise<Array<[string, number]>> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const at = (e: HistoryEvent | undefined) => (e ? eventMs(e) : NaN);
  const id = (e: HistoryEvent) => Number(e.eventId ?? 0);
  const scheduled = (name: string) => events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);
  const by = (attr: 'activityTaskStartedEventAttributes' | 'activityTaskCompletedEventAttributes' | 'activityTaskCancelRequestedEventAttributes' | 'activityTaskCanceledEventAttributes', sched: HistoryEvent | undefined) =>
    sched ? events.find((e) => Number(e[attr]?.scheduledEventId ?? -1) === id(sched)) : undefined;
  const actions = events.filter((e) => /^\d+-/.test(e.activityTaskScheduledEventAttributes?.activityId ?? ''));
  const firstAction = actions[0];
  const lastAction = actions.at(-1);
  const slot = scheduled('holdSlot');
  const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes);
  const prepare = scheduled('prepareWorkspace');
  const load = scheduled('loadFormula');
  const remove = scheduled('removeWorkdir');
  const cancelRequested = by('activityTaskCancelRequestedEventAttributes', slot);
  const cancelled = by('activityTaskCanceledEventAttributes', slot) ?? by('activityTaskCompletedEventAttributes', slot);
  const end = events.at(-1);
  const firstTask = (attr: 'workflowTaskScheduledEventAttributes' | 'workflowTaskStartedEventAttributes' | 'workflowTaskCompletedEventAttributes') => events.find((e) => e[attr]);
  const head = at(firstAction) - at(events[0]);
  const tail = at(end) - at(by('activityTaskCompletedEventAttributes', lastAction));
  return [
    ['workflow started → first action scheduled', head],
    ['  workflow started → holdSlot scheduled', at(slot) - at(events[0])],
    ['    first workflow task scheduled → started', at(firstTask('workflowTaskStartedEventAttributes')) - at(firstTask('workflowTaskScheduledEventAttributes'))],
    ['    first workflow task started → completed', at(firstTask('workflowTaskCompletedEventAttributes')) - at(firstTask('workflowTaskStartedEventAttributes'))],
    ['  holdSlot scheduled → started (claim)', at(by('activityTaskStartedEventAttributes', slot)) - at(slot)],
    ['  holdSlot started → host signal', at(signal) - at(by('activityTaskStartedEventAttributes', slot))],
    ['  host signal → prepareWorkspace scheduled', at(prepare) - at(signal)],
    ['  prepareWorkspace scheduled → completed', at(by('activityTaskCompletedEventAttributes', prepare)) - at(prepare)],
    ['  prepareWorkspace completed → loadFormula scheduled', at(load) - at(by('activityTaskCompletedEventAttributes', prepare))],
    ['  loadFormula scheduled → completed', at(by('activityTaskCompletedEventAttributes', load)) - at(load)],
    ['  loadFormula completed → first action scheduled', at(firstAction) - at(by('activityTaskCompletedEventAttributes', load))],
    ['last action completed → workflow completed', tail],
    ['  last action completed → removeWorkdir scheduled', at(remove) - at(by('activityTaskCompletedEventAttributes', lastAction))],
    ['  removeWorkdir scheduled → completed', at(by('activityTaskCompletedEventAttributes', remove)) - at(remove)],
    ['  removeWorkdir completed → slot ended (release)', at(cancelled) - at(by('activityTaskCompletedEventAttributes', remove))],
    ['    of which cancel requested → slot ended', cancelRequested ? at(cancelled) - at(cancelRequested) : NaN],
    ['  slot ended → workflow completed', at(end) - at(cancelled)],
    ['fixed part (head + tail)', head + tail],
  ];
}

/**
 * Steady time per action from history: the mean interval between consecutive scheduled actions
 * (first to last), so neither the job's fixed part nor the client's round trip counts.
 */
async function steadyPerAction(client: Client, workflowId: string, isAction: (activityId: string) => boolean): Promise<number> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes && isAction(e.activityTaskScheduledEventAttributes.activityId ?? ''));
  if (scheduled.length < 2) throw new Error(`${workflowId}: fewer than two actions in its history`);
  return (eventMs(scheduled.at(-1)!) - eventMs(scheduled[0]!)) / (scheduled.length - 1);
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** RSS of the compiled `taskotron worker` (as production runs it) once it polls and sits idle. */
async function idleRunnerRss(server: DevServer): Promise<{ peak: number; settled: number }> {
  const cli = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error('run `npm run build` first: the idle runner is the compiled CLI');
  const child = spawn(process.execPath, [cli, 'worker', '--arch', 'idle', '--hostname', 'idle-host', '--root', join(scratch, 'idle-runner')], {
    env: { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (let i = 0; !log.includes('polling'); i++) {
      if (child.exitCode !== null || i > 1200) throw new Error(`taskotron worker did not start polling: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    let peak = 0;
    const samples: number[] = [];
    for (let i = 0; i < 50; i++) {
      const now = rssMb(child.pid!);
      peak = Math.max(peak, now);
      samples.push(now);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { peak, settled: median(samples.slice(-10)) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

try {
  for (const variant of variants) {
    // warm-up: workflow bundle in cache, first SQLite writes, the bwrap probe
    await job(variant, -1);
    await job(variant, -1, taskdir, true);
    await variant.bare.run(variant.client, 'bare-warm-up', ACTIONS);
  }
  await baseline();
  await smallProcessBaseline();
  const baselines: number[] = [];
  const inProcessBaselines: number[] = [];
  const bwrapBaselines: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const b = await smallProcessBaseline();
      baselines.push(b);
      const inProcess = await baseline();
      inProcessBaselines.push(inProcess);
      const direct = async () => {
        process.env.TASKOTRON_SPAWNER = 'direct';
        const last = variant.lastIds.shell;
        try {
          // Its own workflow id and uuid; the history read back stays the spawner's job's.
          variant.directJobs.push(await job(variant, round + 1000));
        } finally {
          delete process.env.TASKOTRON_SPAWNER;
          if (last) variant.lastIds.shell = last;
        }
      };
      // The same job with every sandbox set up when its command comes; before the job in even rounds, after it in odd ones.
      const cold = async () => {
        process.env.TASKOTRON_SANDBOX_PRESTART = 'off';
        const last = variant.lastIds.shell;
        try {
          const c = await job(variant, round + 2000);
          variant.coldJobs.push(c);
          variant.coldOverheads.push((c - b) / ACTIONS);
        } finally {
          delete process.env.TASKOTRON_SANDBOX_PRESTART;
          if (last) variant.lastIds.shell = last;
        }
      };
      if (round % 2 === 0) await cold();
      if (process.env.BENCH_JOB_SPAWN_AB && round % 2 === 0) await direct();
      const j = await job(variant, round);
      if (round % 2 === 1) await cold();
      variant.jobs.push(j);
      if (process.env.BENCH_JOB_SPAWN_AB) {
        variant.spawnerJobs.push(j);
        if (round % 2 === 1) await direct();
      }
      variant.overheads.push((j - b) / ACTIONS);
      variant.inProcessOverheads.push((j - inProcess) / ACTIONS);
      variant.fixed.push((await fixedParts(variant.client, variant.lastIds.shell!)).at(-1)![1]);
      variant.dummies.push(await job(variant, round, dummydir));
      variant.dummySteady.push(await steadyPerAction(variant.client, variant.lastIds.dummy!, (activityId) => /^\d+-/.test(activityId)));
      variant.bareSteady.push(await steadyPerAction(variant.client, await variant.bare.run(variant.client, `bare-${round}`, ACTIONS), () => true));
      const u = await job(variant, round, taskdir, true);
      variant.unsandboxed.push(u);
      variant.unsandboxedOverheads.push((u - b) / ACTIONS);
      bwrapBaselines.push(await baseline(bwrapTrue));
    }
  }
  const b = median(baselines);
  const bIn = median(inProcessBaselines);
  const bw = median(bwrapBaselines);
  console.log(`machine: ${cpus().length} cpus, ${cpus()[0]?.model}, Node ${process.version}; dev server with ${process.env.BENCH_MEMORY ? 'in-memory SQLite' : 'SQLite file + WAL'}; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`${ACTIONS} × true, a small process: median ${b.toFixed(0)} ms (${(b / ACTIONS).toFixed(2)} ms per command; the goal's baseline)  [${baselines.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`${ACTIONS} × true, bench process:   median ${bIn.toFixed(0)} ms (${(bIn / ACTIONS).toFixed(2)} ms per command; the process hosting the workers)  [${inProcessBaselines.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`${ACTIONS} × bwrap … true:         median ${bw.toFixed(0)} ms (${(bw / ACTIONS).toFixed(2)} ms per command, bench process: bwrap's start-up ${((bw - bIn) / ACTIONS).toFixed(2)} ms over a plain spawn from there)  [${bwrapBaselines.map((x) => x.toFixed(0)).join(', ')}]`);
  for (const variant of variants) {
    const j = median(variant.jobs);
    const d = median(variant.dummies);
    console.log(`\n[${variant.name}] ${JSON.stringify(VARIANTS[variant.name])}`);
    console.log(`${ACTIONS}-action job (workflow):   median ${j.toFixed(0)} ms (${(j / ACTIONS).toFixed(2)} ms per action)  [${variant.jobs.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`${ACTIONS}-action job of dummy:   median ${d.toFixed(0)} ms (${(d / ACTIONS).toFixed(2)} ms per action: Temporal's round trip + our bookkeeping, no process)  [${variant.dummies.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`per-action overhead over a plain spawn from a small process: median ${median(variant.overheads).toFixed(2)} ms (goal < 20 ms); ratio job/baseline ${(j / b).toFixed(2)}×; over a spawn from the bench process (the baseline before 2026-12-03): ${median(variant.inProcessOverheads).toFixed(2)} ms`);
    console.log(`steady time per action (history), job of dummy: median ${median(variant.dummySteady).toFixed(2)} ms; bare chain of no-op activities, same server: ${median(variant.bareSteady).toFixed(2)} ms; ratio ${(median(variant.dummySteady) / median(variant.bareSteady)).toFixed(2)}  [dummy ${variant.dummySteady.map((x) => x.toFixed(1)).join(', ')}; bare ${variant.bareSteady.map((x) => x.toFixed(1)).join(', ')}]`);
    if (variant.directJobs.length > 0) {
      const sj = median(variant.spawnerJobs);
      const dj = median(variant.directJobs);
      console.log(`spawner A/B, job of true: spawner ${(sj / ACTIONS).toFixed(2)} ms per action, direct ${(dj / ACTIONS).toFixed(2)} ms per action, saving ${((dj - sj) / ACTIONS).toFixed(2)} ms per action  [spawner ${variant.spawnerJobs.map((x) => x.toFixed(0)).join(', ')}; direct ${variant.directJobs.map((x) => x.toFixed(0)).join(', ')}]`);
    }
    const cj = median(variant.coldJobs);
    console.log(`job sandbox A/B, job of true: one sandbox per job ${(j / ACTIONS).toFixed(2)} ms per action, one set up by each command ${(cj / ACTIONS).toFixed(2)} ms per action (overhead ${median(variant.coldOverheads).toFixed(2)} ms), saving ${((cj - j) / ACTIONS).toFixed(2)} ms per action  [off ${variant.coldJobs.map((x) => x.toFixed(0)).join(', ')}]`);
    const f = median(variant.fixed);
    console.log(`fixed per-job cost (history: start → first action + last action → end): median ${f.toFixed(0)} ms = ${(f / ACTIONS).toFixed(2)} ms of each action's overhead; marginal per-action overhead ${(median(variant.overheads) - f / ACTIONS).toFixed(2)} ms  [${variant.fixed.map((x) => x.toFixed(0)).join(', ')}]`);
    const u = median(variant.unsandboxed);
    console.log(`${ACTIONS}-action job, sandbox none: median ${u.toFixed(0)} ms (${(u / ACTIONS).toFixed(2)} ms per action); overhead over a plain spawn ${median(variant.unsandboxedOverheads).toFixed(2)} ms  [${variant.unsandboxed.map((x) => x.toFixed(0)).join(', ')}]`);
    for (const kind of ['shell', 'dummy', 'unsandboxed'] as const) {
      const id = variant.lastIds[kind];
      if (!id) continue;
      console.log(`  hand-offs in job ${id} (ms per action: median, 90th percentile, mean):`);
      for (const h of await handOffs(variant.client, id)) {
        console.log(`    ${h.key.padEnd(48)} ${h.median.toFixed(1).padStart(6)} ${h.p90.toFixed(1).padStart(6)} ${h.mean.toFixed(1).padStart(6)}  (n=${h.n})`);
      }
      console.log(`  fixed part of job ${id} (ms, once per job):`);
      for (const [key, ms] of await fixedParts(variant.client, id)) console.log(`    ${key.padEnd(48)} ${Number.isNaN(ms) ? '     —' : ms.toFixed(1).padStart(6)}`);
    }
  }
  const main = variants.find((v) => v.name === 'raised') ?? variants[0]!;
  const overhead = median(main.overheads);
  const idle = await idleRunnerRss(main.server);
  console.log(`\nidle runner (compiled \`taskotron worker\`, polling, 10 s after start): RSS ${idle.settled.toFixed(0)} MB, peak ${idle.peak.toFixed(0)} MB (goal <= 250 MB)`);
  reportFigures('job', [
    { figure: 'job: per-action overhead over a plain spawn from a small process', goal: '< 20 ms', measured: overhead, unit: 'ms', baseline: b / ACTIONS, ratio: median(main.jobs) / b, met: overhead < 20 },
    { figure: 'job: per-action overhead over a plain spawn from the bench process (the goal baseline before 2026-12-03)', goal: 'info', measured: median(main.inProcessOverheads), unit: 'ms', baseline: bIn / ACTIONS, ratio: median(main.jobs) / bIn, met: true },
    { figure: 'job: fixed per-job cost (start → first action + last action → end, from history)', goal: 'info', measured: median(main.fixed), unit: 'ms', met: true },
    { figure: 'job: per-action overhead without the fixed per-job cost', goal: 'info', measured: overhead - median(main.fixed) / ACTIONS, unit: 'ms', baseline: b / ACTIONS, met: true },
    { figure: 'job: per-action overhead over a plain spawn, a sandbox per command (TASKOTRON_SANDBOX_PRESTART=off)', goal: 'info', measured: median(main.coldOverheads), unit: 'ms', baseline: b / ACTIONS, ratio: median(main.coldJobs) / b, met: true },
    { figure: 'job: per-action overhead over a plain spawn, sandbox none', goal: 'info', measured: median(main.unsandboxedOverheads), unit: 'ms', baseline: b / ACTIONS, ratio: median(main.unsandboxed) / b, met: true },
    { figure: "job: bwrap's start-up over a plain spawn of true (both from the bench process)", goal: 'info', measured: (bw - bIn) / ACTIONS, unit: 'ms', baseline: bIn / ACTIONS, ratio: bw / bIn, met: true },
    { figure: 'job: per action, dummy (no process)', goal: 'info', measured: median(main.dummies) / ACTIONS, unit: 'ms', met: true },
    { figure: 'job: steady time per dummy action vs a bare activity chain, same server (history)', goal: 'info', measured: median(main.dummySteady), unit: 'ms', baseline: median(main.bareSteady), ratio: median(main.dummySteady) / median(main.bareSteady), met: true },
    { figure: 'idle runner RSS (taskotron worker, peak over 10 s)', goal: '<= 250 MB', measured: idle.peak, unit: 'MB', met: idle.peak <= 250 },
  ]);
} finally {
  for (const variant of variants) {
    variant.worker.shutdown();
    variant.plain.shutdown();
    await variant.running;
    await variant.plainRunning;
    await variant.bare.stop();
    await variant.connection.close();
    await variant.server.stop();
  }
}
