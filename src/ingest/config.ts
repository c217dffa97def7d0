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
};

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
  const config: IngestConfig = { ...DEFAULT_CONFIG, validArches: [...DEFAULT_CONFIG.validArches] };
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
  errors.sort((a, b) => a.line - b.line);
  warnings.sort((a, b) => a.line - b.line);
  return errors.length > 0 ? { errors, warnings } : { value: config, errors, warnings };
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
