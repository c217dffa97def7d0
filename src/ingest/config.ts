// Ingest configuration: the original trigger.cfg (INI, reference §2.2) read as it was deployed, plus
// the sections fedmsg's own config held (`[fedmsg]`: endpoints, topics, signature checks) and ours
// (`[ingest]`: Temporal queues, state, task repositories). Unknown keys are warnings, not errors, so a
// production trigger.cfg with `[buildbot]` and `execdb_server` still loads.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic } from '../formula/diagnostic.js';

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
  topics: string[];
  maxMessageBytes: number;
  validateSignatures: boolean;
  caCert?: string;
  crl?: string;
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
  tls: { ca?: string; cert?: string; key?: string };
}

export const DEFAULT_CONFIG: IngestConfig = {
  validArches: ['x86_64'],
  fuseDelaySeconds: 900,
  environments: [],
  connect: [],
  bind: [],
  topics: [''],
  maxMessageBytes: 4 * 1024 * 1024,
  validateSignatures: false,
  taskRepo: 'https://pagure.io/taskotron/task-${task}.git',
  taskRef: 'master',
  triggerQueue: 'taskotron',
  ingestQueue: 'ingest',
  runTriggerWorkflows: false,
  jobQueue: 'taskotron',
  memoryQueue: 10_000,
  backfillRate: 2,
  sources: ['fedmsg'],
  amqp: { exchange: 'amq.topic', queue: 'taskotron-ingest', bindings: ['#'], prefetch: 25, frameMax: 131_072, tls: {} },
};

const SOURCES = ['fedmsg', 'amqp'] as const;

type Ini = Map<string, Map<string, { value: string; line: number }>>;

/** Python 2 ConfigParser as trigger-era deployments used it: `;`/`#` comments, ` ;` inline comments. */
export function parseIni(text: string): { sections: Ini; errors: Array<{ line: number; message: string }> } {
  const sections: Ini = new Map();
  const errors: Array<{ line: number; message: string }> = [];
  let current: Map<string, { value: string; line: number }> | undefined;
  let lastKey: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*([;#].*)?$/.test(raw)) return;
    if (/^\s/.test(raw) && current && lastKey) {
      // A continuation line.
      const entry = current.get(lastKey)!;
      entry.value += `\n${raw.trim()}`;
      return;
    }
    const section = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (section) {
      current = sections.get(section[1]!) ?? new Map();
      sections.set(section[1]!, current);
      lastKey = undefined;
      return;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!pair || !current) {
      errors.push({ line, message: current ? `expected 'key = value', got '${raw.trim()}'` : 'a key before any [section]' });
      return;
    }
    lastKey = pair[1]!.trim().toLowerCase();
    current.set(lastKey, { value: pair[2]!.replace(/\s+;.*$/, '').trim(), line });
  });
  return { sections, errors };
}

const list = (value: string) => value.split(/[,\s]+/).filter(Boolean);
const bool = (value: string) => /^(1|yes|true|on)$/i.test(value);

interface KeySpec {
  section: string;
  key: string;
  set(config: IngestConfig, value: string, base: string): string | void;
}

const path = (base: string, value: string) => (isAbsolute(value) ? value : resolve(base, value));
const int = (value: string, apply: (n: number) => void): string | void => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) return `expected a whole number, got '${value}'`;
  apply(n);
};

const atLeast = (min: number, value: string, apply: (n: number) => void): string | void => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) return `expected a whole number of at least ${min}, got '${value}'`;
  apply(n);
};

const KEYS: KeySpec[] = [
  { section: 'trigger', key: 'valid_arches', set: (c, v) => void (c.validArches = list(v)) },
  { section: 'trigger', key: 'rules_template', set: (c, v, b) => void (c.rulesFile = path(b, v)) },
  { section: 'trigger', key: 'datagrepper_url', set: (c, v) => void (c.datagrepperUrl = v) },
  { section: 'trigger', key: 'fuse_delay', set: (c, v) => int(v, (n) => (c.fuseDelaySeconds = n)) },
  { section: 'trigger', key: 'git_cache_dir', set: (c, v, b) => void (c.gitCacheDir = path(b, v)) },
  { section: 'trigger', key: 'deployment_type', set: (c, v) => void (c.environments = list(v)) },
  { section: 'trigger', key: 'rawhide_release', set: (c, v) => int(v, (n) => (c.rawhideRelease = n)) },
  { section: 'koji_build_completed', key: 'critpath_filepath', set: (c, v, b) => void (c.critpathFile = v ? path(b, v) : undefined) },
  { section: 'fedmsg', key: 'endpoints', set: (c, v) => void (c.connect = list(v)) },
  { section: 'fedmsg', key: 'bind', set: (c, v) => void (c.bind = list(v)) },
  { section: 'fedmsg', key: 'topics', set: (c, v) => void (c.topics = v.trim() === '' ? [''] : list(v)) },
  { section: 'fedmsg', key: 'max_message_bytes', set: (c, v) => int(v, (n) => (c.maxMessageBytes = n)) },
  { section: 'fedmsg', key: 'validate_signatures', set: (c, v) => void (c.validateSignatures = bool(v)) },
  { section: 'fedmsg', key: 'ca_cert_location', set: (c, v, b) => void (c.caCert = path(b, v)) },
  { section: 'fedmsg', key: 'crl_location', set: (c, v, b) => void (c.crl = path(b, v)) },
  { section: 'ingest', key: 'state_dir', set: (c, v, b) => void (c.stateDir = path(b, v)) },
  { section: 'ingest', key: 'task_repo', set: (c, v) => void (c.taskRepo = v) },
  { section: 'ingest', key: 'task_ref', set: (c, v) => void (c.taskRef = v) },
  { section: 'ingest', key: 'trigger_queue', set: (c, v) => void (c.triggerQueue = v) },
  { section: 'ingest', key: 'ingest_queue', set: (c, v) => void (c.ingestQueue = v) },
  { section: 'ingest', key: 'run_trigger_workflows', set: (c, v) => void (c.runTriggerWorkflows = bool(v)) },
  { section: 'ingest', key: 'job_queue', set: (c, v) => void (c.jobQueue = v) },
  { section: 'ingest', key: 'memory_queue', set: (c, v) => int(v, (n) => (c.memoryQueue = n)) },
  { section: 'ingest', key: 'backfill_rate', set: (c, v) => int(v, (n) => (c.backfillRate = n)) },
  // --- message sources (issue 12) ---
  {
    section: 'ingest',
    key: 'sources',
    set: (c, v) => {
      const names = list(v);
      const bad = names.find((n) => !(SOURCES as readonly string[]).includes(n));
      if (bad !== undefined || names.length === 0) return `expected one or more of ${SOURCES.join(', ')}, got '${v}'`;
      c.sources = [...new Set(names)] as IngestConfig['sources'];
    },
  },
  { section: 'amqp', key: 'url', set: (c, v) => void (c.amqp.url = v) },
  { section: 'amqp', key: 'exchange', set: (c, v) => void (c.amqp.exchange = v) },
  { section: 'amqp', key: 'queue', set: (c, v) => void (c.amqp.queue = v) },
  { section: 'amqp', key: 'bindings', set: (c, v) => void (c.amqp.bindings = list(v)) },
  // prefetch 0 means unbounded in AMQP: exactly the memory bound this setting exists for.
  { section: 'amqp', key: 'prefetch', set: (c, v) => atLeast(1, v, (n) => (c.amqp.prefetch = n)) },
  { section: 'amqp', key: 'frame_max', set: (c, v) => atLeast(4096, v, (n) => (c.amqp.frameMax = n)) },
  { section: 'amqp', key: 'tls_ca', set: (c, v, b) => void (c.amqp.tls.ca = path(b, v)) },
  { section: 'amqp', key: 'tls_cert', set: (c, v, b) => void (c.amqp.tls.cert = path(b, v)) },
  { section: 'amqp', key: 'tls_key', set: (c, v, b) => void (c.amqp.tls.key = path(b, v)) },
];

/** Sections and keys the original trigger.cfg has that ingest has no use for. */
const KNOWN_UNUSED = new Set(['buildbot.url', 'trigger.koji_url', 'trigger.execdb_server', 'trigger.runner_type', 'trigger.job_logging', 'trigger.joblog_file']);

export function loadIngestConfig(text: string, file: string): { value?: IngestConfig; errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const at = (line: number, path: string, message: string, severity: 'error' | 'warning' = 'error') =>
    (severity === 'error' ? errors : warnings).push({ severity, file, line, column: 1, path, message });
  const { sections, errors: syntax } = parseIni(text);
  for (const e of syntax) at(e.line, '', e.message);
  const config = copyDefaults();
  const base = dirname(resolve(file));
  for (const [section, entries] of sections) {
    for (const [key, { value, line }] of entries) {
      const spec = KEYS.find((k) => k.section === section && k.key === key);
      if (!spec) {
        if (!KNOWN_UNUSED.has(`${section}.${key}`)) at(line, `${section}.${key}`, 'unknown key, ignored', 'warning');
        continue;
      }
      const problem = spec.set(config, value, base);
      if (problem) at(line, `${section}.${key}`, problem);
    }
  }
  if (config.validArches.length === 0) at(1, 'trigger.valid_arches', 'needs at least one arch');
  const line = (section: string, key: string) => sections.get(section)?.get(key)?.line ?? 1;
  if (config.sources.includes('amqp') && !config.amqp.url && !process.env.TASKOTRON_AMQP_URL) {
    at(line('ingest', 'sources'), 'amqp.url', "the 'amqp' source needs [amqp] url (or TASKOTRON_AMQP_URL)");
  }
  if (config.validateSignatures && !config.caCert) {
    at(line('fedmsg', 'validate_signatures'), 'fedmsg.ca_cert_location', 'validate_signatures needs ca_cert_location: without a CA any self-signed certificate would pass');
  }
  errors.sort((a, b) => a.line - b.line);
  warnings.sort((a, b) => a.line - b.line);
  return errors.length > 0 ? { errors, warnings } : { value: config, errors, warnings };
}

/** DEFAULT_CONFIG with its nested objects copied, so a loaded config never writes into the defaults. */
export function copyDefaults(): IngestConfig {
  return {
    ...DEFAULT_CONFIG,
    validArches: [...DEFAULT_CONFIG.validArches],
    sources: [...DEFAULT_CONFIG.sources],
    amqp: { ...DEFAULT_CONFIG.amqp, bindings: [...DEFAULT_CONFIG.amqp.bindings], tls: {} },
  };
}

export function readIngestConfig(file: string): IngestConfig {
  const result = loadIngestConfig(readFileSync(file, 'utf8'), file);
  if (!result.value) {
    throw new Error(result.errors.map((d) => `${d.file}:${d.line}: ${d.path ? `${d.path}: ` : ''}${d.message}`).join('\n'));
  }
  return result.value;
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
