// Ingest against a real Temporal dev server (SQLite file + WAL), all measured in one run:
//  1. start throughput: N matched messages published to ingest until N trigger workflows are started,
//     against a plain `client.workflow.start` loop of the same workflows (sequential, and with as many
//     in flight as ingest allows), interleaved;
//  2. latency from publish to the job's first activity start (the real job workflow's holdSlot — claimHost before slots — on a
//     runner worker), one message at a time (the next when the job has ended: no job waits for a slot);
//  3. ingest RSS while it takes a sustained stream of matched messages and runs their trigger workflows.
// `npx tsx bench/ingest-start.bench.ts [starts] [latencySamples] [sustainSeconds]` — bounded by its arguments.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { projectRoot } from '../src/devserver/project.js';
import { freePort, startDevServer } from '../src/devserver/server.js';
import { FedmsgPublisher } from '../src/bus/fedmsg.js';
import { pythonJsonDumps } from '../src/bus/canonical-json.js';
import { DEFAULT_CONFIG, type IngestConfig } from '../src/ingest/config.js';
import { IngestService, triggerInput } from '../src/ingest/service.js';
import { triggerStartOptions } from '../src/ingest/starter.js';
import { installRuntime } from '../src/worker/logging.js';
import { createRunnerWorker } from '../src/worker/runner-worker.js';
import { TRIGGER_WORKFLOW } from '../src/workflows/trigger.js';
import { reportFigures, type Figure } from './figures.js';
import { buildCompletedMessages, eventMs, NVR_SANITY_RULES, publishAndAwaitJob } from './publish-to-job.js';

const STARTS = Number(process.argv[2] ?? 300);
const SAMPLES = Number(process.argv[3] ?? 30);
const SUSTAIN_S = Number(process.argv[4] ?? 20);
const CONCURRENCY = 16;

const scratch = mkdtempSync(join(tmpdir(), 'ingest-bench-'));
const rules = join(scratch, 'trigger_rules.yml');
writeFileSync(rules, NVR_SANITY_RULES);
const build = buildCompletedMessages('2026-bench');

// Every timed round starts from a collected heap: a stopped ingest service leaves megabytes of old
// generation behind, and its mark-compact otherwise lands in whichever round comes next.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The SDK's own metrics (core's Prometheus exporter) split each workflow task's time into the worker's
// side (poll answered → completion sent) and the server's, for the latency phase's breakdown.
const coreMetricsAddress = `127.0.0.1:${await freePort()}`;
installRuntime({ logLevel: 'ERROR', prometheusBindAddress: coreMetricsAddress });
const server = await startDevServer({ binary: ensureTemporalCli(), dbFile: join(scratch, 'temporal.db') });
const temporal = { address: server.address, namespace: server.namespace };
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });


async function startIngest(name: string, overrides: Partial<IngestConfig>, worker: boolean) {
  const config: IngestConfig = {
    ...DEFAULT_CONFIG,
    validArches: ['x86_64'],
    rulesFile: rules,
    bind: ['tcp://127.0.0.1:0'],
    triggerQueue: `${name}-triggers`,
    ingestQueue: `${name}-ingest`,
    jobQueue: `${name}-jobs`,
    taskRepo: `local:${join(projectRoot(), 'examples', 'tasks')}/\${task}`,
    ...overrides,
  };
  const service = await IngestService.start({ config, temporal, stateDir: join(scratch, name), log: () => {}, ...(worker ? {} : { worker: false as const }) });
  const publisher = await FedmsgPublisher.open({ connect: service.boundEndpoints[0]! });
  if (!(await publisher.waitForSubscriber(10_000))) throw new Error('ingest did not subscribe');
  return { service, publisher, config };
}

// --- 1. start throughput -------------------------------------------------------------------------
/**
 * Resolves once ingest has started `n` trigger workflows, woken by the starter rather than by
 * polling `service.stats()` every 5 ms: that builds and sorts a snapshot of every counter, and in the
 * measured window it about doubled this process's CPU per start (4.3-6.6 ms against 2.2-2.8 without
 * it, load 17-22), which the plain loop never paid.
 */
async function allStarted(service: IngestService, n: number): Promise<void> {
  while (service.intake.counters.get('started') < n) {
    // Nothing pending yet: the last messages are still on their way through the socket.
    if (service.starter.pending > 0) await service.starter.idle();
    else await sleep(5);
  }
}

async function ingestRound(round: number): Promise<number> {
  const { service, publisher } = await startIngest(`starts-${round}`, {}, false);
  // Encoded before the clock starts, as the plain loop's inputs are: the publisher is the load
  // generator, not ingest, and it runs in this process.
  const frames = Array.from({ length: STARTS }, () => {
    const m = build();
    return [m.topic, pythonJsonDumps(m)] as const;
  });
  collectGarbage();
  const t0 = performance.now();
  for (const [topic, body] of frames) await publisher.send(topic, body);
  await allStarted(service, STARTS);
  const seconds = (performance.now() - t0) / 1000;
  await publisher.close();
  await service.stop();
  return STARTS / seconds;
}

async function plainRound(round: number, inFlight: number): Promise<number> {
  const config = { ...DEFAULT_CONFIG, validArches: ['x86_64'], jobQueue: `plain-${round}-jobs`, ingestQueue: `plain-${round}-ingest`, taskRepo: 'local:/x/${task}' };
  const inputs = Array.from({ length: STARTS }, () => {
    const m = build();
    return triggerInput({ msgId: m.msg_id, topic: m.topic, timestamp: m.timestamp, data: { message_type: 'KojiBuildPackageCompleted', item: 'bash-5.2.26-1.fc40', item_type: 'koji_build', name: 'bash' }, tasks: [{ task: 'nvr-sanity', arch: 'x86_64', rule: 0 }], discover: [] }, config);
  });
  let next = 0;
  collectGarbage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < inputs.length) {
        const input = inputs[next++]!;
        // The very options ingest starts with, so only the path to the call differs.
        await client.workflow.start(TRIGGER_WORKFLOW, triggerStartOptions(input, `plain-${round}-triggers`));
      }
    }),
  );
  return STARTS / ((performance.now() - t0) / 1000);
}

/**
 * The runner's workflow tasks as the SDK saw them (mean over the run, by workflow type): poll answered →
 * completion sent, i.e. the worker's share of a task's started → completed in history; and the
 * dispatch waits by queue. Diagnostics only: a failed scrape prints a note.
 */
async function printCoreMetrics(): Promise<void> {
  try {
    const text = await (await fetch(`http://${coreMetricsAddress}/metrics`)).text();
    const totals = new Map<string, { sum: number; count: number }>();
    for (const line of text.split('\n')) {
      const m = /^temporal_(workflow_task_execution_latency|workflow_task_schedule_to_start_latency|activity_schedule_to_start_latency)_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
      if (!m) continue;
      const label = /workflow_type="([^"]*)"/.exec(m[3]!)?.[1] ?? /task_queue="([^"]*)"/.exec(m[3]!)?.[1] ?? '';
      const key = `${m[1]} ${label}`;
      const total = totals.get(key) ?? { sum: 0, count: 0 };
      total[m[2] as 'sum' | 'count'] += Number(m[4]);
      totals.set(key, total);
    }
    for (const [key, { sum, count }] of totals) if (count) console.log(`  [SDK] ${key.padEnd(70)} mean ${((sum / count) * 1000).toFixed(1)} ms (${count})`);
  } catch (error) {
    console.log(`  [SDK] metrics not read: ${(error as Error).message}`);
  }
}

// --- 2. latency publish → first activity of the job ----------------------------------------------
// One message at a time, the next once the previous job has ended: a job holds one of the host's
// slots for its whole life, so a message every 500 ms against a 2-slot host whose jobs take over a
// second measured the arch queue growing (seconds), not the path from publish to the job.
async function latency(): Promise<number[]> {
  const runner = await createRunnerWorker({ temporal, arch: 'x86_64', hostname: 'bench-host', workflowQueue: 'latency-jobs', runner: { root: join(scratch, 'runner') } });
  const running = runner.run();
  const { service, publisher } = await startIngest('latency', { triggerQueue: 'latency-jobs', jobQueue: 'latency-jobs' }, true);
  try {
    await sleep(3000); // workers polling, bundle loaded
    const latencies: number[] = [];
    const stages = new Map<string, number[]>();
    const ms = eventMs;
    for (let i = 0; i < SAMPLES; i++) {
      const { at, trigger: triggerEvents, job: events } = await publishAndAwaitJob(client, publisher, build());
      type Event = (typeof events)[number];
      const at0 = (list: Event[], pick: (e: Event) => unknown) => ms(list.find((e) => pick(e))?.eventTime);
      const slot = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'holdSlot');
      const step = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'prepareWorkspace');
      const startOf = (scheduled: Event | undefined) => at0(events, (e) => scheduled && String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
      const marks: Array<[string, number]> = [
        ['published', at],
        ['trigger started', at0(triggerEvents, (e) => e.workflowExecutionStartedEventAttributes)],
        ['trigger task started', at0(triggerEvents, (e) => e.workflowTaskStartedEventAttributes)],
        ['child initiated', at0(triggerEvents, (e) => e.startChildWorkflowExecutionInitiatedEventAttributes)],
        ['job started', at0(events, (e) => e.workflowExecutionStartedEventAttributes)],
        ['job task started', at0(events, (e) => e.workflowTaskStartedEventAttributes)],
        ['holdSlot scheduled', ms(slot?.eventTime)],
        ['holdSlot started (first activity)', startOf(slot)],
        ['host signal received', at0(events, (e) => e.workflowExecutionSignaledEventAttributes)],
        ['prepareWorkspace scheduled', ms(step?.eventTime)],
        ['prepareWorkspace started', startOf(step)],
      ];
      latencies.push(marks[7]![1] - at);
      for (let k = 1; k < marks.length; k++) {
        const key = `${marks[k - 1]![0]} → ${marks[k]![0]}`;
        stages.set(key, [...(stages.get(key) ?? []), marks[k]![1] - marks[k - 1]![1]]);
      }
      stages.set('(publish → prepareWorkspace started)', [...(stages.get('(publish → prepareWorkspace started)') ?? []), marks[10]![1] - at]);
      // Where the two first workflow tasks go: each task's started → completed, the first against the
      // job's later ones, and how much the job's first overlaps the trigger's second (child started).
      const taskTimes = (events: Event[] | null | undefined) => {
        const started = (events ?? []).filter((e) => e.workflowTaskStartedEventAttributes).map((e) => ms(e.eventTime));
        const completed = (events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).map((e) => ms(e.eventTime));
        return { started, spans: completed.map((at, k) => at - started[k]!) };
      };
      const triggerTasks = taskTimes(triggerEvents);
      const jobTasks = taskTimes(events);
      const note = (key: string, x: number | undefined) => {
        if (x !== undefined && !Number.isNaN(x)) stages.set(key, [...(stages.get(key) ?? []), x]);
      };
      note('(trigger task 1 started → completed: new workflow + startChild)', triggerTasks.spans[0]);
      note('(trigger task 2 started → completed: child started → complete)', triggerTasks.spans[1]);
      note('(job task 1 started → completed: new workflow + holdSlot)', jobTasks.spans[0]);
      note('(job tasks 3.. started → completed, median per job)', jobTasks.spans.length > 2 ? median(jobTasks.spans.slice(2)) : undefined);
      note('(job task 1 started − trigger task 2 started: same worker)', jobTasks.started[0]! - triggerTasks.started[1]!);
      const cancel = events.find((e) => e.activityTaskCancelRequestedEventAttributes);
      const cancelled = events.find((e) => e.activityTaskCanceledEventAttributes);
      if (cancel && cancelled) stages.set('(slot release: cancel requested → cancelled)', [...(stages.get('(slot release: cancel requested → cancelled)') ?? []), ms(cancelled.eventTime) - ms(cancel.eventTime)]);
    }
    for (const [stage, xs] of stages) console.log(`  ${stage.padEnd(66)} median ${median(xs)} ms`);
    await printCoreMetrics();
    return latencies;
  } finally {
    await publisher.close();
    await service.stop();
    runner.shutdown();
    await running;
  }
}

// --- 3. RSS under sustained load: the real `taskotron ingest` process (compiled, as `npm start` runs it) --
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function sustained(hostTriggers: boolean, v8Defaults = false): Promise<{ rate: number; peakMb: number; endMb: number; counters: string; sent: number }> {
  const cli = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error('run `npm run build` first: the sustained phase runs the compiled CLI');
  // A port under the ephemeral range that nothing listens on: a random one in 20000-40000 was once
  // taken by an outgoing connection's source port first (EADDRINUSE, the run of 2026-12-03 19:25).
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const name = `sustained-${hostTriggers}${v8Defaults ? '-v8' : ''}`;
  const child = spawn(process.execPath, [cli, 'ingest', '--rules', rules, '--bind', endpoint, '--arches', 'x86_64', '--trigger-queue', `${name}-triggers`, '--ingest-queue', `${name}-ingest`, '--job-queue', 'sustained-jobs', '--state-dir', join(scratch, name), '--stats-interval', '3600', ...(hostTriggers ? ['--run-trigger-workflows'] : [])], {
    // TASKOTRON_INGEST_DEFAULT_HEAP: the same process with V8's default heap sizing (src/cli/heap.ts).
    env: { ...process.env, TEMPORAL_ADDRESS: server.address, ...(v8Defaults ? { TASKOTRON_INGEST_DEFAULT_HEAP: '1' } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  while (!log.includes('ready on')) {
    if (child.exitCode !== null) throw new Error(`ingest exited: ${log}`);
    await sleep(50);
  }
  const publisher = await FedmsgPublisher.open({ connect: endpoint });
  if (!(await publisher.waitForSubscriber(10_000))) throw new Error('ingest did not subscribe');
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid!))), 200);
  const rate = 50;
  let sent = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < SUSTAIN_S * 1000) {
    for (let i = 0; i < rate / 10; i++, sent++) {
      const m = build();
      await publisher.send(m.topic, pythonJsonDumps(m));
    }
    await sleep(100);
  }
  await sleep(3000);
  const endMb = Math.round(rssOf(child.pid!) / 1024 / 1024);
  clearInterval(sampler);
  await publisher.close();
  child.kill('SIGTERM');
  await exited;
  // ingest logs JSON lines on stderr; its last, `stopped`, carries the final counters.
  const stoppedLine = log.split('\n').find((line) => line.includes('"msg":"stopped"'));
  const counters = stoppedLine ? JSON.stringify((JSON.parse(stoppedLine) as { counters?: unknown }).counters) : `(no "stopped" line; log ends: ${log.slice(-400)})`;
  return { rate, peakMb: Math.round(peak / 1024 / 1024), endMb, counters, sent };
}

try {
  console.log(`machine: ${cpus().length} cpus, ${cpus()[0]?.model}, Node ${process.version}; dev server with SQLite file + WAL`);
  await plainRound(-1, CONCURRENCY); // warm-up, both sides
  await ingestRound(-1);
  const rates: Record<'ingest' | 'plainConcurrent' | 'plainSequential', number[]> = { ingest: [], plainConcurrent: [], plainSequential: [] };
  const runRound: Record<keyof typeof rates, (round: number) => Promise<number>> = {
    plainSequential: (round) => plainRound(round * 3, 1),
    plainConcurrent: (round) => plainRound(round * 3 + 1, CONCURRENCY),
    ingest: (round) => ingestRound(round),
  };
  // Every round adds 900 workflows to the server's database, and a later round is a little slower
  // for it: the order turns round by round (A B C, C B A, A B C), so no side always goes last.
  for (let round = 0; round < 3; round++) {
    const order = ['plainSequential', 'plainConcurrent', 'ingest'] as const;
    for (const name of round % 2 === 0 ? order : [...order].reverse()) rates[name].push(await runRound[name](round));
  }
  const figures: Figure[] = [];
  for (const [name, xs] of Object.entries(rates)) console.log(`${name.padEnd(16)} starts/s: ${xs.map((x) => x.toFixed(0)).join(', ')}  median ${median(xs).toFixed(0)}`);
  // Judged round by round (the median of each round's ratio), so drift between rounds cancels.
  const pairRatios = rates.ingest.map((x, i) => x / rates.plainConcurrent[i]!);
  const startRatio = median(pairRatios);
  console.log(`start throughput ratio ingest / plain loop with ${CONCURRENCY} in flight, per round: ${pairRatios.map((x) => x.toFixed(2)).join(', ')}, median ${startRatio.toFixed(2)} (of the medians ${(median(rates.ingest) / median(rates.plainConcurrent)).toFixed(2)}); / sequential loop: ${(median(rates.ingest) / median(rates.plainSequential)).toFixed(2)} (goal >= 0.9)`);

  figures.push({ figure: `trigger starts vs a plain start loop, ${CONCURRENCY} in flight`, goal: 'ratio >= 0.9', measured: median(rates.ingest!), unit: 'starts/s', baseline: median(rates.plainConcurrent!), ratio: startRatio, met: startRatio >= 0.9 });

  const latencies = await latency();
  console.log(`publish → first job activity started, ${latencies.length} samples: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms (goal p50 < 50 ms)`);
  figures.push({ figure: 'publish → first job activity started, p50', goal: '< 50 ms', measured: percentile(latencies, 50), unit: 'ms', met: percentile(latencies, 50) < 50 });

  for (const [hostTriggers, v8Defaults] of [[false, false], [false, true], [true, false]] as const) {
    const load = await sustained(hostTriggers, v8Defaults);
    const what = `${hostTriggers ? 'with --run-trigger-workflows (runs the trigger workflows too)' : 'default (starts trigger workflows; runs only its activities)'}${v8Defaults ? ', V8 default heap sizing' : ''}`;
    console.log(`taskotron ingest process, ${what}, ${load.rate} matched msg/s for ${SUSTAIN_S} s (${load.sent} sent): peak RSS ${load.peakMb} MB, ${load.endMb} MB at the end (goal <= 150 MB); counters ${load.counters}`);
    if (!hostTriggers && !v8Defaults) figures.push({ figure: `ingest peak RSS, ${load.rate} matched msg/s for ${SUSTAIN_S} s`, goal: '<= 150 MB', measured: load.peakMb, unit: 'MB', met: load.peakMb <= 150 });
  }
  reportFigures('ingest-start', figures);
} finally {
  await connection.close();
  await server.stop();
}
