// Publish → first job activity, variants side by side: the path of bench/ingest-start.bench.ts's latency
// phase (ingest + a runner worker in one process, one message at a time, the next once the job has
// ended), run for every variant in turn, round after round (A, B, A, B: the order flips every round),
// so a loaded machine slows all of them alike. Prints the median of every stage per variant.
//
//   VARIANTS='{"base":{},"polls":{"workerOptions":{"maxConcurrentWorkflowTaskPolls":20}}}' \
//     npx tsx bench/first-activity-ab.ts [rounds=3] [samples per round=10]
//
// A variant may set `workerOptions` (the runner's workflow worker), `bundle` (another workflows entry
// point, e.g. a patched copy of src/workflows/index.ts), `ingest` (IngestConfig overrides) and `server`
// (dynamic-config values on top of the project's; each distinct set gets its own dev server), `env`
// (set while the runner's workers, and so their workflow threads, are created).
// AB_SERVER_METRICS=1 also prints the server's own timings (transfer-queue tasks by type, sync match
// by queue), read from its Prometheus endpoint at the end.
// Not part of `npm run bench`: a tool for trying changes, not a figure.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { ensureTemporalCli } from '../src/devserver/cli-binary.js';
import { projectRoot } from '../src/devserver/project.js';
import { DEV_SERVER_DYNAMIC_CONFIG, freePort, startDevServer, type DevServer } from '../src/devserver/server.js';
import { FedmsgPublisher } from '../src/bus/fedmsg.js';
import { DEFAULT_CONFIG, type IngestConfig } from '../src/ingest/config.js';
import { IngestService } from '../src/ingest/service.js';
import { quietBundlerLogger } from '../src/worker/bundle.js';
import { installRuntimeLogger } from '../src/worker/logging.js';
import { createRunnerWorker } from '../src/worker/runner-worker.js';
import { buildCompletedMessages, eventMs, NVR_SANITY_RULES, publishAndAwaitJob } from './publish-to-job.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const SAMPLES = Number(process.argv[3] ?? 10);
interface Variant {
  workerOptions?: Partial<WorkerOptions>;
  bundle?: string;
  ingest?: Partial<IngestConfig>;
  server?: Record<string, unknown>;
  /** Environment of the runner's threads while its workers are created (e.g. for a NODE_OPTIONS preload). */
  env?: Record<string, string>;
}
const variants = JSON.parse(process.env.VARIANTS ?? '{"base":{}}') as Record<string, Variant>;
const serverMetrics = process.env.AB_SERVER_METRICS === '1';

const scratch = mkdtempSync(join(tmpdir(), 'first-activity-ab-'));
const rules = join(scratch, 'trigger_rules.yml');
writeFileSync(rules, NVR_SANITY_RULES);
const build = buildCompletedMessages('2026-ab');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

installRuntimeLogger('ERROR');
const bundles = new Map<string, { codePath: string }>();
for (const variant of Object.values(variants)) {
  if (!variant.bundle || bundles.has(variant.bundle)) continue;
  const { code } = await bundleWorkflowCode({ workflowsPath: variant.bundle, logger: quietBundlerLogger });
  const path = join(scratch, `bundle-${bundles.size}.js`);
  writeFileSync(path, code);
  bundles.set(variant.bundle, { codePath: path });
}
interface Server {
  server: DevServer;
  connection: Connection;
  client: Client;
  metricsPort?: number;
}
const servers = new Map<string, Server>();
for (const variant of Object.values(variants)) {
  const key = JSON.stringify(variant.server ?? {});
  if (servers.has(key)) continue;
  const metricsPort = serverMetrics ? await freePort() : undefined;
  const server = await startDevServer({
    binary: ensureTemporalCli(),
    dbFile: join(scratch, `temporal-${servers.size}.db`),
    dynamicConfig: { ...DEV_SERVER_DYNAMIC_CONFIG, ...variant.server },
    ...(metricsPort ? { extraArgs: ['--metrics-port', String(metricsPort)] } : {}),
  });
  const connection = await Connection.connect({ address: server.address });
  servers.set(key, { server, connection, client: new Client({ connection }), ...(metricsPort ? { metricsPort } : {}) });
}

// The runner builds its workers itself: the variant's options reach its workflow worker through here.
let current: Variant = {};
const create = Worker.create.bind(Worker);
(Worker as unknown as { create: typeof Worker.create }).create = (options) =>
  create(options.workflowBundle ? { ...options, ...(current.bundle ? { workflowBundle: bundles.get(current.bundle)! } : {}), ...current.workerOptions } : options);

const ms = eventMs;
const stages = new Map<string, Map<string, number[]>>();
const add = (variant: string, stage: string, x: number) => {
  if (Number.isNaN(x)) return;
  const byStage = stages.get(variant) ?? new Map<string, number[]>();
  stages.set(variant, byStage);
  byStage.set(stage, [...(byStage.get(stage) ?? []), x]);
};

async function round(name: string, index: number): Promise<void> {
  current = variants[name]!;
  const { server, client } = servers.get(JSON.stringify(current.server ?? {}))!;
  const temporal = { address: server.address, namespace: server.namespace };
  const queue = `${name}-${index}`;
  const saved = { ...process.env };
  Object.assign(process.env, current.env);
  const runner = await createRunnerWorker({ temporal, arch: 'x86_64', hostname: `host-${queue}`, workflowQueue: `${queue}-jobs`, runner: { root: join(scratch, 'runner', queue) } });
  for (const key of Object.keys(current.env ?? {})) if (saved[key] === undefined) delete process.env[key];
  Object.assign(process.env, saved);
  const running = runner.run();
  const config: IngestConfig = {
    ...DEFAULT_CONFIG,
    validArches: ['x86_64'],
    rulesFile: rules,
    bind: ['tcp://127.0.0.1:0'],
    triggerQueue: `${queue}-jobs`,
    ingestQueue: `${queue}-ingest`,
    jobQueue: `${queue}-jobs`,
    taskRepo: `local:${join(projectRoot(), 'examples', 'tasks')}/\${task}`,
    ...current.ingest,
  };
  const service = await IngestService.start({ config, temporal, stateDir: join(scratch, queue), log: () => {} });
  const publisher = await FedmsgPublisher.open({ connect: service.boundEndpoints[0]! });
  try {
    if (!(await publisher.waitForSubscriber(10_000))) throw new Error('ingest did not subscribe');
    await sleep(2000); // workers polling
    // Two warm-up messages per round: the first workflows of a worker pay for its start.
    for (let i = -2; i < SAMPLES; i++) {
      const { at, trigger, job } = await publishAndAwaitJob(client, publisher, build());
      if (i < 0) continue;
      type Event = (typeof job)[number];
      const first = (events: Event[], pick: (e: Event) => unknown, n = 0) => ms(events.filter((e) => pick(e))[n]?.eventTime);
      const slot = job.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'holdSlot');
      const taskStarted = (e: Event) => e.workflowTaskStartedEventAttributes;
      const taskCompleted = (e: Event) => e.workflowTaskCompletedEventAttributes;
      const marks: Array<[string, number]> = [
        ['published', at],
        ['trigger started', first(trigger, (e) => e.workflowExecutionStartedEventAttributes)],
        ['trigger task started', first(trigger, taskStarted)],
        ['child initiated', first(trigger, (e) => e.startChildWorkflowExecutionInitiatedEventAttributes)],
        ['job started', first(job, (e) => e.workflowExecutionStartedEventAttributes)],
        ['job task started', first(job, taskStarted)],
        ['holdSlot scheduled', ms(slot?.eventTime)],
        ['holdSlot started', first(job, (e) => slot && String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(slot.eventId))],
      ];
      add(name, 'publish → holdSlot started (the figure)', marks.at(-1)![1] - at);
      for (let k = 1; k < marks.length; k++) add(name, `${marks[k - 1]![0]} → ${marks[k]![0]}`, marks[k]![1] - marks[k - 1]![1]);
      add(name, '(trigger task 1 started → completed)', first(trigger, taskCompleted) - first(trigger, taskStarted));
      add(name, '(trigger task 2 started → completed)', first(trigger, taskCompleted, 1) - first(trigger, taskStarted, 1));
      add(name, '(job task 1 started → completed)', first(job, taskCompleted) - first(job, taskStarted));
      add(name, '(job task 3 started → completed)', first(job, taskCompleted, 2) - first(job, taskStarted, 2));
      add(name, '(job task 1 started − trigger task 2 started)', first(job, taskStarted) - first(trigger, taskStarted, 1));
    }
  } finally {
    await publisher.close();
    await service.stop();
    runner.shutdown();
    await running;
  }
}

/** The server's own view: transfer-queue tasks by type (queue wait, processing) and sync match by task queue. */
async function printServerMetrics(port: number): Promise<void> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const totals = new Map<string, { sum: number; count: number }>();
  for (const line of text.split('\n')) {
    const m = /^(task_latency_queue|task_latency_processing|task_latency_load|syncmatch_latency)_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[3]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${m[1]} ${m[1] === 'syncmatch_latency' ? labels.taskqueue : labels.task_type}`;
    const total = totals.get(key) ?? { sum: 0, count: 0 };
    total[m[2] as 'sum' | 'count'] += Number(m[4]);
    totals.set(key, total);
  }
  for (const [key, { sum, count }] of [...totals].sort()) if (count >= 5) console.log(`  ${key.padEnd(72)} mean ${((sum / count) * 1000).toFixed(1)} ms (${count})`);
}

try {
  console.log(`load average at start ${load()}`);
  for (let r = 0; r < ROUNDS; r++) for (const name of r % 2 ? Object.keys(variants).reverse() : Object.keys(variants)) await round(name, r);
  const names = Object.keys(variants);
  console.log(`${'stage (median ms)'.padEnd(56)} ${names.map((n) => n.padStart(10)).join(' ')}`);
  for (const stage of stages.get(names[0]!)!.keys()) console.log(`${stage.padEnd(56)} ${names.map((n) => String(median(stages.get(n)?.get(stage) ?? [NaN])).padStart(10)).join(' ')}`);
  console.log(`${SAMPLES * ROUNDS} samples per variant; load average at end ${load()}`);
  for (const [key, { metricsPort }] of servers) {
    if (!metricsPort) continue;
    console.log(`server ${key}:`);
    await printServerMetrics(metricsPort);
  }
} finally {
  for (const { connection, server } of servers.values()) {
    await connection.close();
    await server.stop();
  }
}
