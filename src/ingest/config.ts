// Ingest configuration: the `ingest` section of taskotron.yaml (or a trigger.cfg, read as it was
// deployed: src/config/trigger-cfg.ts), in the shape the ingest service uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../formula/diagnostic.js';
import { loadConfig, readConfig, type LoadConfigOptions, type ResolvedConfig } from '../config/load.js';
import { configDurationSeconds } from '../config/schema.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../bus/envelope.js';
import { DEFAULT_RECEIVE_HIGH_WATER_MARK } from '../bus/fedmsg.js';

export interface IngestConfig {
  /** Arches a task runs on when its rule names none (trigger.cfg `valid_arches`). */
  validArches: string[];
  rulesFile?: string;
  datagrepperUrl?: string;
  /** Seconds a Koji tag must be quiet before its KojiTagChanged jobs start. */
  fuseDelaySeconds: number;
  gitCacheDir?: string;
  /** Accept only these fedmsg environments (trigger.cfg `deployment_type`); empty = all. */
  environments: string[];
  critpathFile?: string;
  /** Rawhide's release number: `fc<N>` and later map to dist-git `master`. */
  rawhideRelease?: number;
  connect: string[];
  bind: string[];
  /** Addresses and networks allowed to connect to `bind` endpoints; empty = anyone. */
  bindAllow: string[];
  topics: string[];
  /** Larger fedmsg messages are refused (frames by ZeroMQ, two-frame totals by intake). */
  maxMessageBytes: number;
  /** fedmsg messages queued per publisher connection before ingest stops reading it (ZMQ_RCVHWM). */
  receiveHighWaterMark: number;
  validateSignatures: boolean;
  /** A file or a URL (fedmsg's ca_cert_location). */
  caCert?: string;
  caCertCache?: string;
  /** 0: a CA fetched from a URL is never fetched again. */
  caCertCacheExpirySeconds: number;
  /** A file or a URL (fedmsg's crl_location). */
  crl?: string;
  crlCache?: string;
  crlCacheExpirySeconds: number;
  crlStale: 'refuse' | 'warn';
  /** Topic → certificate common names allowed to send it (fedmsg's routing_policy). */
  routingPolicy: Record<string, string[]>;
  routingNitpicky: boolean;
  stateDir?: string;
  /** Where a task named in the rules lives: `${task}` is replaced by its name. */
  taskRepo: string;
  taskRef: string;
  /** Where trigger workflows run: by default the shared workflow queue the runner workers poll. */
  triggerQueue: string;
  /** Where this process's own activities (discover, tag forwarding) run. */
  ingestQueue: string;
  /** Host the trigger workflows in this process too (a workflow isolate: ~120 MB more). */
  runTriggerWorkflows: boolean;
  jobQueue: string;
  /** Matched messages held in memory while Temporal is unreachable, before they go to the spool. */
  memoryQueue: number;
  /** Datagrepper requests per second during backfill. */
  backfillRate: number;

  // --- message sources (issue 12). taskotron.yaml: `ingest.sources: { fedmsg: {...}, amqp: {...} }`;
  // trigger.cfg: `[ingest] sources = fedmsg, amqp` and an `[amqp]` section; env TASKOTRON_AMQP_URL.
  /** Which transports ingest consumes: fedmsg (ZeroMQ), amqp (fedora-messaging), or both. */
  sources: Array<'fedmsg' | 'amqp'>;
  amqp: AmqpSettings;
}

/** `ingest.sources.amqp`: one durable queue on a fedora-messaging broker. */
export interface AmqpSettings {
  /** `amqps://user:password@host/vhost`; required when `amqp` is a source. */
  url?: string;
  exchange: string;
  queue: string;
  /** Topic binding patterns; default `#`. */
  bindings: string[];
  /** Unacked deliveries at most (back-pressure while Temporal is unreachable). */
  prefetch: number;
  /** Largest AMQP frame negotiated and accepted, bytes. */
  frameMax: number;
  /** Larger bodies are rejected without requeue, never parsed. */
  maxMessageBytes: number;
  tls: { ca?: string; cert?: string; key?: string };
}

/** The ingest settings of a loaded configuration. */
export function ingestConfig(config: ResolvedConfig): IngestConfig {
  const ingest = config.ingest;
  const fedmsg = ingest.sources.fedmsg;
  const out: IngestConfig = {
    validArches: [...ingest.arches],
    fuseDelaySeconds: configDurationSeconds(ingest.fuse_delay, true)!,
    environments: [...ingest.environments],
    connect: [...(fedmsg?.endpoints ?? [])],
    bind: [...(fedmsg?.bind ?? [])],
    bindAllow: [...(fedmsg?.bind_allow ?? [])],
    topics: [...(fedmsg?.topics ?? [''])],
    maxMessageBytes: fedmsg?.max_message_bytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    receiveHighWaterMark: fedmsg?.receive_high_water_mark ?? DEFAULT_RECEIVE_HIGH_WATER_MARK,
    validateSignatures: fedmsg?.validate_signatures ?? false,
    caCertCacheExpirySeconds: configDurationSeconds(fedmsg?.ca_cert_cache_expiry ?? '0s', true)!,
    crlCacheExpirySeconds: configDurationSeconds(fedmsg?.crl_cache_expiry ?? '1h', true)!,
    crlStale: fedmsg?.crl_stale ?? 'refuse',
    routingPolicy: Object.fromEntries(Object.entries(fedmsg?.routing_policy ?? {}).map(([topic, names]) => [topic, [...names]])),
    routingNitpicky: fedmsg?.routing_nitpicky ?? false,
    taskRepo: ingest.task_repo,
    taskRef: ingest.task_ref,
    triggerQueue: ingest.trigger_queue,
    ingestQueue: ingest.ingest_queue,
    runTriggerWorkflows: ingest.run_trigger_workflows,
    jobQueue: ingest.job_queue,
    memoryQueue: ingest.memory_queue,
    backfillRate: ingest.backfill_rate,
    // The buses whose sections are present; none named means fedmsg (endpoints may still be empty).
    sources: ingest.sources.amqp ? (fedmsg ? ['fedmsg', 'amqp'] : ['amqp']) : ['fedmsg'],
    amqp: {
      ...(ingest.sources.amqp?.url ? { url: ingest.sources.amqp.url } : {}),
      exchange: ingest.sources.amqp?.exchange ?? 'amq.topic',
      queue: ingest.sources.amqp?.queue ?? 'taskotron-ingest',
      bindings: [...(ingest.sources.amqp?.bindings ?? ['#'])],
      prefetch: ingest.sources.amqp?.prefetch ?? 25,
      frameMax: ingest.sources.amqp?.frame_max ?? 131_072,
      maxMessageBytes: ingest.sources.amqp?.max_message_bytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      tls: {
        ...(ingest.sources.amqp?.tls?.ca ? { ca: ingest.sources.amqp.tls.ca } : {}),
        ...(ingest.sources.amqp?.tls?.cert ? { cert: ingest.sources.amqp.tls.cert } : {}),
        ...(ingest.sources.amqp?.tls?.key ? { key: ingest.sources.amqp.tls.key } : {}),
      },
    },
  };
  if (ingest.rules) out.rulesFile = ingest.rules;
  if (ingest.datagrepper_url) out.datagrepperUrl = ingest.datagrepper_url;
  if (ingest.git_cache_dir) out.gitCacheDir = ingest.git_cache_dir;
  if (ingest.critpath_file) out.critpathFile = ingest.critpath_file;
  if (ingest.rawhide_release) out.rawhideRelease = ingest.rawhide_release;
  if (fedmsg?.ca_cert) out.caCert = fedmsg.ca_cert;
  if (fedmsg?.crl) out.crl = fedmsg.crl;
  if (fedmsg?.ca_cert_cache) out.caCertCache = fedmsg.ca_cert_cache;
  if (fedmsg?.crl_cache) out.crlCache = fedmsg.crl_cache;
  if (ingest.state_dir) out.stateDir = ingest.state_dir;
  return out;
}

/** Every default, no file, no environment. */
export const DEFAULT_CONFIG: IngestConfig = ingestConfig(readConfig({ env: {} }));

/** A fresh copy of the defaults, safe to modify (the nested objects are not shared with DEFAULT_CONFIG). */
export function copyDefaults(): IngestConfig {
  return ingestConfig(readConfig({ env: {} }));
}

/** A taskotron.yaml or trigger.cfg's ingest settings, alone (no environment), with every problem. */
export function loadIngestConfig(text: string, file: string): { value?: IngestConfig; errors: Diagnostic[]; warnings: Diagnostic[] } {
  const loaded = loadConfig({ file, text, env: {} });
  return loaded.value ? { value: ingestConfig(loaded.value), errors: [], warnings: loaded.warnings } : { errors: loaded.errors, warnings: loaded.warnings };
}

/** The ingest settings of the configuration in `file`, with `options.env` over it; throws ConfigError. */
export function readIngestConfig(file: string | undefined, options: Omit<LoadConfigOptions, 'file'> = { env: {} }): IngestConfig {
  return ingestConfig(readConfig({ ...options, ...(file !== undefined ? { file } : {}) }));
}

/** Critical-path package names: one per line, `#` comments. */
export function readCritpath(file: string | undefined): string[] {
  if (!file) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

export function defaultIngestStateDir(root: string): string {
  return join(root, 'ingest');
}
