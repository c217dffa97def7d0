// The ingest process, assembled: rules (live), the decision pipeline, the fedmsg sockets, the
// workflow starter with its spool, the Temporal worker that runs trigger workflows and the discover
// activity (queue `ingest`), the persisted checkpoint and the backfill after a restart.
// Temporal being down at start is not fatal: messages are matched and held until it answers.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { createDiscoverActivities } from '../activities/discover.js';
import { createTagDebounceActivities } from '../activities/tag-debounce.js';
import type { TaskSource } from '../common/job.js';
import { runnerQueue } from '../common/queues.js';
import { connectionOptions, type TemporalSettings } from '../config/temporal.js';
import type { TriggerInput } from '../workflows/trigger.js';
import { AmqpSource } from '../bus/amqp.js';
import { FedmsgSource } from '../bus/fedmsg.js';
import type { InboundMessage, MessageSource } from '../bus/source.js';
import { readCritpath, type IngestConfig } from './config.js';
import { datagrepperMessages } from './datagrepper.js';
import type { Envelope, RejectReason } from '../bus/envelope.js';
import { Intake, type TriggerRequest, type Verdict } from './intake.js';
import { handlesTopic } from './job-triggers.js';
import { LiveRules } from './live-rules.js';
import { Spool } from './spool.js';
import { TriggerStarter } from './starter.js';
import type { Logger } from './stats.js';
import { bundleEntry, freshPrebuiltBundle, workflowBundleOptions } from '../worker/bundle.js';
import { MAIN_THREAD_WORKFLOWS } from '../worker/workflow-thread.js';

export interface IngestServiceOptions {
  config: IngestConfig;
  temporal: TemporalSettings;
  stateDir: string;
  log: Logger;
  /**
   * Run the trigger worker in this process (default). Tests may bring their own bundle, and run its
   * workflows on the main thread (src/worker/workflow-thread.ts), as a short-lived process should.
   */
  worker?: false | { workflowsPath?: string; workflowsOnMainThread?: boolean };
  /** Signature check for each envelope (signatures.ts); undefined = accept unsigned. */
  verify?: (envelope: Envelope, raw: Buffer | undefined) => string | undefined;
  /** Backfill overlap: how far before the checkpoint to start, for clock skew between publishers. */
  backfillOverlapSeconds?: number;
  /** Backoff between start attempts while Temporal is unreachable (default 0.5 s doubling to 30 s). */
  retryBackoffMs?: { min: number; max: number };
  /** A start not answered within this counts as Temporal unreachable (default 10 s). */
  startTimeoutMs?: number;
  /** Told how long each rule evaluation took (see src/ingest/metrics.ts). */
  ruleEvaluation?: { observe(seconds: number): void };
  /** Backoff while datagrepper fails during backfill (default 2 s doubling to 60 s; retried until stopped). */
  backfillRetryMs?: { min: number; max: number };
}

/** Rejections that no redelivery can cure: an AMQP broker is told to drop these, never to requeue. */
const MALFORMED = new Set<RejectReason>(['frames', 'oversize', 'not-json', 'bad-shape', 'topic-mismatch', 'bad-signature']);

export interface Checkpoint {
  /** Unix seconds of the newest message handled with nothing older still volatile. */
  timestamp: number;
}

/** Where a task named in the rules (or forced with `taskotron jobs run`) lives. */
export function taskSource(config: Pick<IngestConfig, 'taskRepo' | 'taskRef'>, task: string): TaskSource {
  const where = config.taskRepo.replaceAll('${task}', task);
  return where.startsWith('local:') ? { kind: 'local', path: where.slice('local:'.length) } : { kind: 'git', repo: where, ref: config.taskRef };
}

/** Builds the workflow input: where each task lives, and which pool takes `noarch` jobs. */
export function triggerInput(
  request: TriggerRequest,
  config: Pick<IngestConfig, 'taskRepo' | 'taskRef' | 'jobQueue' | 'ingestQueue' | 'validArches' | 'fuseDelaySeconds'>,
): TriggerInput {
  const source = (task: string): TaskSource => taskSource(config, task);
  return {
    msgId: request.msgId,
    topic: request.topic,
    timestamp: request.timestamp,
    messageType: request.data.message_type,
    item: request.data.item,
    itemType: request.data.item_type,
    data: request.data,
    jobs: request.tasks.map((t) => ({ task: t.task, arch: t.arch, source: source(t.task) })),
    discover: request.discover.map((d) => ({
      repo: d.repo,
      ...(d.branch ? { branch: d.branch } : {}),
      ...(d.fallbackBranch ? { fallbackBranch: d.fallbackBranch } : {}),
      recursive: d.recursive,
      arches: d.arches,
    })),
    jobQueue: config.jobQueue,
    activityQueue: config.ingestQueue,
    noarchPool: runnerQueue(config.validArches[0] ?? 'x86_64'),
    // Bodhi moves builds into a tag in bursts: one job set per tag once it has been quiet.
    ...(request.data.message_type === 'KojiTagChanged' && config.fuseDelaySeconds > 0 && typeof request.data.tag === 'string'
      ? { debounce: { tag: request.data.tag, fuseDelaySeconds: config.fuseDelaySeconds } }
      : {}),
  };
}

export class IngestService {
  private readonly sources: MessageSource[] = [];
  private readonly receiving: Array<Promise<void>> = [];
  private workers: Worker[] = [];
  private workerStarting?: Promise<void>;
  private workerRun?: Promise<void>;
  private workerConnection?: NativeConnection;
  private checkpointTimer?: NodeJS.Timeout;
  private newestHandled = 0;
  private savedCheckpoint = 0;
  /**
   * While a backfill runs: the timestamp up to which its window is handled. The checkpoint never
   * passes it, whatever the live bus brings meanwhile, so a crash mid-backfill resumes there.
   */
  private backfillCursor?: number;
  private readonly abort = new AbortController();
  private backfilling?: Promise<void>;
  /** While a backfill runs: the timestamp (Unix s) of the last message it read. */
  private backfillPosition?: number;
  private stopping = false;

  private constructor(
    readonly options: IngestServiceOptions,
    readonly rules: LiveRules,
    readonly intake: Intake,
    readonly starter: TriggerStarter,
    private readonly connection: Connection,
    private readonly client: Client,
  ) {}

  /**
   * Dedup by workflow ID holds only while Temporal remembers the ID: the namespace's retention after
   * the workflow closed. Reading messages older than that (backfill, replay) may start jobs again:
   * say so. Returns the warning, or undefined (also when the namespace cannot be asked).
   */
  async warnBeyondRetention(start: number, what: string): Promise<string | undefined> {
    try {
      const reply = await this.client.connection.withDeadline(Date.now() + 5000, () =>
        this.client.workflowService.describeNamespace({ namespace: this.options.temporal.namespace }),
      );
      const ttl = reply.config?.workflowExecutionRetentionTtl?.seconds;
      const retention = ttl === undefined || ttl === null ? undefined : Number(ttl);
      if (!retention || start >= Date.now() / 1000 - retention) return undefined;
      const message = `${what} reaches back to ${new Date(start * 1000).toISOString()}, beyond namespace ${this.options.temporal.namespace}'s retention of ${retention / 3600} h: messages whose trigger workflows closed longer ago than that are no longer known to Temporal and start their jobs again`;
      this.options.log('warn', message);
      return message;
    } catch {
      return undefined;
    }
  }

  static async start(options: IngestServiceOptions): Promise<IngestService> {
    const { config, stateDir, log } = options;
    if (!config.rulesFile) throw new Error('no rules file: set [trigger] rules_template or pass --rules');
    mkdirSync(stateDir, { recursive: true });
    const rules = LiveRules.open(config.rulesFile, log);
    rules.watch();
    const intake = new Intake({
      rules: () => rules.current,
      validArches: config.validArches,
      context: { critpathPkgs: readCritpath(config.critpathFile), ...(config.rawhideRelease ? { rawhideRelease: config.rawhideRelease } : {}) },
      environments: config.environments,
      maxMessageBytes: config.maxMessageBytes,
      ...(options.verify ? { verify: options.verify } : {}),
      ...(options.ruleEvaluation ? { ruleEvaluation: options.ruleEvaluation } : {}),
      log,
    });
    // Lazy: a server that is down now only delays starts; nothing is refused meanwhile. The background
    // connect gives up when a start would (startTimeoutMs; both 10 s by default): its pending timer
    // outlives stop() and kept a process that stopped ingest during an outage alive until it ran out.
    const connection = Connection.lazy({ ...connectionOptions(options.temporal), ...(options.startTimeoutMs ? { connectTimeout: options.startTimeoutMs } : {}) });
    // ... but connect now, in the background, so the first matched message does not also pay for
    // the connection (a failure here is only a start that will be retried).
    connection.ensureConnected().catch(() => undefined);
    const client = new Client({ connection, namespace: options.temporal.namespace });
    const starter = new TriggerStarter({
      client,
      triggerQueue: config.triggerQueue,
      toInput: (request) => triggerInput(request, config),
      memoryCapacity: config.memoryQueue,
      spool: new Spool<TriggerRequest>(join(stateDir, 'spool')),
      deadLetterDir: stateDir,
      counters: intake.counters,
      log,
      ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.retryBackoffMs ? { minBackoffMs: options.retryBackoffMs.min, maxBackoffMs: options.retryBackoffMs.max } : {}),
    });
    const service = new IngestService(options, rules, intake, starter, connection, client);
    service.newestHandled = service.savedCheckpoint = service.readCheckpoint()?.timestamp ?? 0;
    // Whatever a previous run left on disk starts first.
    starter.resume();
    if (options.worker !== false) service.runWorkerInBackground();
    await service.openSources();
    service.checkpointTimer = setInterval(() => service.saveCheckpoint(), 1000);
    service.checkpointTimer.unref();
    const checkpoint = service.readCheckpoint();
    if (config.datagrepperUrl && checkpoint) {
      service.backfilling = service.backfill(config.datagrepperUrl, checkpoint.timestamp - (options.backfillOverlapSeconds ?? 60), Date.now() / 1000);
    }
    log('info', `listening on ${service.describeSources().join(', ') || '(no endpoints)'}; ${rules.current.rules.length} rule(s) from ${config.rulesFile}`);
    return service;
  }

  /** The configured transports (`sources`), each feeding the same decision path. */
  private async openSources(): Promise<void> {
    const { config, log } = this.options;
    if (config.sources.includes('fedmsg')) {
      this.sources.push(
        await FedmsgSource.open({
          connect: config.connect,
          bind: config.bind,
          bindAllow: config.bindAllow,
          topics: config.topics,
          maxMessageBytes: config.maxMessageBytes,
          handlesTopic,
          // One limit for both layers: a frame over it is refused by ZeroMQ before it is allocated
          // (costing its connection, counted as a disconnect); two frames over it together are counted
          // as oversize by intake. Memory queued per connection: highWaterMark x the frames' size.
          maxFrameBytes: config.maxMessageBytes,
          highWaterMark: config.receiveHighWaterMark,
        }),
      );
    }
    if (config.sources.includes('amqp')) {
      const url = config.amqp.url ?? process.env.TASKOTRON_AMQP_URL;
      if (!url) throw new Error("the 'amqp' source needs [amqp] url (or TASKOTRON_AMQP_URL)");
      this.sources.push(
        new AmqpSource({
          url,
          exchange: config.amqp.exchange,
          queue: config.amqp.queue,
          bindings: config.amqp.bindings,
          prefetch: config.amqp.prefetch,
          frameMax: config.amqp.frameMax,
          tls: config.amqp.tls,
          maxMessageBytes: config.amqp.maxMessageBytes,
          log,
        }),
      );
    }
    for (const source of this.sources) {
      this.receiving.push(
        source.run((message) => this.receive(message)).catch((error: unknown) => {
          if (!this.stopping) log('error', `${source.transport} source stopped: ${(error as Error).message}`);
        }),
      );
    }
  }

  describeSources(): string[] {
    return this.sources.flatMap((s) => s.describe());
  }

  /** Endpoints this process bound (resolved ports for `:0`). */
  get boundEndpoints(): string[] {
    return this.sources.flatMap((s) => (s instanceof FedmsgSource ? s.boundEndpoints : []));
  }

  /**
   * One message from a transport. With an acknowledging transport (AMQP) a matched message is acked
   * only when its start is durable in Temporal; malformed ones are rejected for good; anything else
   * that was decided (unmatched, ignored, duplicate, not ours) is acked at once.
   */
  private receive(message: InboundMessage): void {
    const verdict = this.intake.fromInbound(message);
    const settlement = message.settlement;
    if (verdict.kind === 'matched') {
      this.starter.submit(verdict.request, settlement ? () => settlement.ack() : undefined);
      this.newestHandled = Math.max(this.newestHandled, verdict.request.timestamp);
      return;
    }
    // A redelivery (after a reconnect) of a message whose start is still pending: acking it now would
    // lose the message if ingest died before that start was durable. It is acked with the start.
    if (verdict.kind === 'duplicate' && settlement && this.starter.ackWhenDurable(verdict.msgId, () => settlement.ack())) return;
    if (verdict.kind === 'rejected' && MALFORMED.has(verdict.reason)) settlement?.reject();
    else settlement?.ack();
    if (message.decoded.ok) this.newestHandled = Math.max(this.newestHandled, message.decoded.value.timestamp);
  }

  private handle(verdict: Verdict, timestamp?: number): void {
    if (verdict.kind === 'matched') {
      this.starter.submit(verdict.request);
      this.newestHandled = Math.max(this.newestHandled, verdict.request.timestamp);
    } else if (timestamp !== undefined) {
      this.newestHandled = Math.max(this.newestHandled, timestamp);
    }
  }

  /** Feeds one envelope as if it came from the bus (backfill, replay); `signedText` as recordsFromText gives it. */
  ingestEnvelope(envelope: unknown, signedText?: string): Verdict {
    const verdict = this.intake.fromEnvelope(envelope, signedText);
    const ts = typeof (envelope as { timestamp?: unknown })?.timestamp === 'number' ? (envelope as { timestamp: number }).timestamp : undefined;
    this.handle(verdict, ts);
    return verdict;
  }

  private async backfill(url: string, start: number, end: number): Promise<void> {
    const { log, config } = this.options;
    const counters = this.intake.counters;
    log('info', `backfilling ${new Date(start * 1000).toISOString()} .. ${new Date(end * 1000).toISOString()} from ${url}`);
    this.backfillCursor = start;
    await this.warnBeyondRetention(start, 'the backfill');
    let count = 0;
    this.backfillPosition = start;
    try {
      // An outage of datagrepper is waited out, never the end of the backfill: giving up would lose
      // the window for good, since the live bus has moved on meanwhile.
      const records = datagrepperMessages(url, {
        start,
        end,
        ratePerSecond: config.backfillRate,
        signal: this.abort.signal,
        attempts: Infinity,
        retryMs: this.options.backfillRetryMs ?? { min: 2000, max: 60_000 },
        onRetry: (error, page, delay) => {
          counters.add('backfill.retry');
          log('warn', `backfill: datagrepper page ${page} failed (${error.message}); retrying in ${delay / 1000} s`);
        },
      });
      for await (const { envelope, signedText } of records) {
        const topic = typeof (envelope as { topic?: unknown }).topic === 'string' ? (envelope as { topic: string }).topic : '';
        if (config.topics.some((prefix) => topic.startsWith(prefix))) {
          this.ingestEnvelope(envelope, signedText);
          counters.add('backfilled');
          count++;
        }
        // Oldest first: everything up to this record's time has now been handed on.
        const ts = (envelope as { timestamp?: unknown }).timestamp;
        if (typeof ts === 'number' && Number.isFinite(ts)) {
          this.backfillCursor = Math.max(this.backfillCursor ?? 0, Math.trunc(ts));
          this.backfillPosition = ts;
        }
      }
      if (this.abort.signal.aborted) return;
      this.backfillCursor = undefined;
      log('info', `backfill done: ${count} message(s) read`);
    } catch (error) {
      // Only a bug gets here (datagrepper failures are retried): keep the cursor so nothing is skipped.
      counters.add('backfill.failed');
      log('error', `backfill stopped: ${(error as Error).message}; the checkpoint stays at ${this.backfillCursor} until a restart resumes there`);
    } finally {
      this.backfillPosition = undefined;
    }
  }

  /** How far behind now the running backfill is, in seconds; 0 when none runs. */
  backfillLagSeconds(now = Date.now() / 1000): number {
    return this.backfillPosition === undefined ? 0 : Math.max(0, now - this.backfillPosition);
  }

  /** Unix seconds of the saved checkpoint (0: none yet). */
  get checkpointTimestamp(): number {
    return this.savedCheckpoint;
  }

  /** Resolves when the backfill started at startup has finished (tests). */
  backfillDone(): Promise<void> {
    return this.backfilling ?? Promise.resolve();
  }

  private checkpointFile(): string {
    return join(this.options.stateDir, 'checkpoint.json');
  }

  readCheckpoint(): Checkpoint | undefined {
    const file = this.checkpointFile();
    if (!existsSync(file)) return undefined;
    try {
      const value = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
      return typeof value.timestamp === 'number' && value.timestamp > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Persists the newest handled timestamp, but never past a message that is still only in memory. */
  saveCheckpoint(): void {
    const volatile = this.starter.oldestVolatileTimestamp();
    let safe = volatile === undefined ? this.newestHandled : Math.min(this.newestHandled, volatile - 1);
    if (this.backfillCursor !== undefined) safe = Math.min(safe, this.backfillCursor);
    if (safe <= this.savedCheckpoint) return;
    const file = this.checkpointFile();
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ timestamp: safe } satisfies Checkpoint)}\n`);
    renameSync(`${file}.tmp`, file);
    this.savedCheckpoint = safe;
  }

  /**
   * This process always runs its activities (discover, tag forwarding) on the ingest queue. The
   * trigger workflows themselves run where workflow code runs (the runner workers' shared queue),
   * unless `runTriggerWorkflows` (or a test's own bundle) hosts them here as well.
   */
  private runWorkerInBackground(): void {
    const { log, temporal, config, stateDir } = this.options;
    const custom = this.options.worker ? this.options.worker.workflowsPath : undefined;
    const hostWorkflows = Boolean(custom) || config.runTriggerWorkflows;
    const activities = {
      ...createDiscoverActivities({ gitCacheDir: config.gitCacheDir ?? join(stateDir, 'git-cache') }),
      ...createTagDebounceActivities({ client: new Client({ connection: this.connection, namespace: temporal.namespace }), taskQueue: config.triggerQueue }),
    };
    const attempt = async (delay: number): Promise<void> => {
      if (this.stopping) return;
      try {
        this.workerConnection = await NativeConnection.connect(connectionOptions(temporal));
        const common = { connection: this.workerConnection, namespace: temporal.namespace, shutdownGraceTime: '10 seconds' };
        const queues: string[] = [];
        if (hostWorkflows) {
          // Only the trigger workflows run here: a bundle of trigger.ts alone keeps the isolate small.
          const bundle = await triggerBundle(custom ?? bundleEntry('triggers'));
          const sameQueue = config.triggerQueue === config.ingestQueue;
          this.workers.push(
            await Worker.create({
              ...common,
              taskQueue: config.triggerQueue,
              workflowBundle: bundle,
              maxCachedWorkflows: 100,
              ...(sameQueue ? { activities } : {}),
              ...(this.options.worker && this.options.worker.workflowsOnMainThread ? MAIN_THREAD_WORKFLOWS : {}),
            }),
          );
          // Which bundle: a prebuilt one costs no webpack at start (seconds of CPU, and ~45 MB kept).
          const source = 'codePath' in bundle && bundle.codePath ? `bundle ${bundle.codePath}` : 'bundled at start';
          queues.push(`${config.triggerQueue} (trigger workflows${sameQueue ? ', activities' : ''}; ${source})`);
          if (!sameQueue) {
            this.workers.push(await Worker.create({ ...common, taskQueue: config.ingestQueue, activities }));
            queues.push(`${config.ingestQueue} (activities)`);
          }
        } else {
          this.workers.push(await Worker.create({ ...common, taskQueue: config.ingestQueue, activities }));
          queues.push(`${config.ingestQueue} (activities)`);
        }
        // Run them even when a stop came meanwhile: stop() waits for this attempt, then shuts them down.
        this.workerRun = Promise.all(this.workers.map((w) => w.run())).then(() => undefined);
        log('info', `worker polling ${queues.join(', ')}`);
      } catch (error) {
        for (const worker of this.workers.splice(0)) if (worker.getState() === 'RUNNING') worker.shutdown();
        await this.workerConnection?.close().catch(() => undefined);
        this.workerConnection = undefined;
        if (this.stopping) return;
        log('warn', `ingest worker not running yet (${(error as Error).message.split('\n')[0]}); retrying in ${delay / 1000} s`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.abort.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
        return attempt(Math.min(delay * 2, 30_000));
      }
    };
    this.workerStarting = attempt(1000);
  }

  /** Messages counted per outcome, and the queues' state. */
  stats(): Record<string, number> {
    return { ...this.intake.counters.snapshot(), ...this.transportCounters(), pending: this.starter.pending, volatile: this.starter.volatile, rules: this.rules.current.rules.length };
  }

  /** What the transports count below intake (`fedmsg.disconnects`, `amqp.connects`, …), keyed `<transport>.<name>`. */
  transportCounters(): Record<string, number> {
    return Object.assign({}, ...this.sources.map((s) => s.counters())) as Record<string, number>;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    this.rules.close();
    await Promise.all(this.sources.map((s) => s.close()));
    await Promise.all(this.receiving);
    await this.backfilling;
    clearInterval(this.checkpointTimer);
    await this.starter.stop();
    this.saveCheckpoint();
    // A worker still being created (bundling takes seconds) is waited for, then shut down with the rest.
    await this.workerStarting;
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await this.workerRun?.catch(() => undefined);
    await this.workerConnection?.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}

const bundles = new Map<string, Promise<WorkflowBundleOption>>();

/**
 * The prebuilt bundle of the trigger workflows when running compiled code (`npm run build` writes it),
 * else bundled once per process (webpack takes seconds, and a test starts and restarts ingest several
 * times), or once for a whole test run by the harness: TASKOTRON_TRIGGER_BUNDLES maps a workflows
 * path to its bundle file.
 */
function triggerBundle(workflowsPath: string): Promise<WorkflowBundleOption> {
  const prebuilt =
    (JSON.parse(process.env.TASKOTRON_TRIGGER_BUNDLES || '{}') as Record<string, string>)[workflowsPath] ??
    (workflowsPath === bundleEntry('triggers') ? freshPrebuiltBundle('triggers') : undefined);
  if (prebuilt) return Promise.resolve({ codePath: prebuilt });
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode(workflowBundleOptions(workflowsPath));
    // A failed bundle is not kept: the next start tries again.
    bundle.catch(() => bundles.delete(workflowsPath));
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

