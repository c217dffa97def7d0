// The original trigger.cfg (INI, reference §2.2) as an input format of the one configuration: its
// keys land in taskotron.yaml's `ingest` section, plus the sections fedmsg's own config held
// (`[fedmsg]`: endpoints, topics, signature checks) and our former `[ingest]` section. Unknown keys
// are warnings, not errors, so a production trigger.cfg with `[buildbot]` and `execdb_server` loads.
import { basename } from 'node:path';
import type { Diagnostic } from '../formula/diagnostic.js';

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

/** True for a trigger.cfg: by name (`*.cfg`, `*.ini`), else by content (an INI `[section]` first). */
export function isTriggerCfg(file: string, text?: string): boolean {
  if (/\.(cfg|ini)$/i.test(basename(file))) return true;
  if (/\.ya?ml$/i.test(basename(file)) || text === undefined) return false;
  const first = text.split(/\r?\n/).find((l) => !/^\s*([;#].*)?$/.test(l));
  return first !== undefined && /^\[[^\]]+\]\s*$/.test(first);
}

const list = (value: string) => value.split(/[,\s]+/).filter(Boolean);
const bool = (value: string) => /^(1|yes|true|on)$/i.test(value);
const wholeNumber = (value: string): number | string => {
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && value.trim() !== '' ? n : `expected a whole number, got '${value}'`;
};

interface KeySpec {
  /** `section.key` in trigger.cfg. */
  ini: string;
  /** Where it lands in taskotron.yaml. */
  path: readonly string[];
  /** The value, or a string problem wrapped in { error }. */
  convert(value: string): unknown;
}

const num = (v: string) => {
  const n = wholeNumber(v);
  return typeof n === 'number' ? n : { error: n };
};

const seconds = (v: string) => {
  const n = wholeNumber(v);
  return typeof n === 'number' ? `${n}s` : { error: n };
};

const KEYS: KeySpec[] = [
  { ini: 'trigger.valid_arches', path: ['ingest', 'arches'], convert: list },
  { ini: 'trigger.rules_template', path: ['ingest', 'rules'], convert: (v) => v },
  { ini: 'trigger.datagrepper_url', path: ['ingest', 'datagrepper_url'], convert: (v) => v },
  {
    ini: 'trigger.fuse_delay',
    path: ['ingest', 'fuse_delay'],
    convert: seconds,
  },
  { ini: 'trigger.git_cache_dir', path: ['ingest', 'git_cache_dir'], convert: (v) => v },
  { ini: 'trigger.deployment_type', path: ['ingest', 'environments'], convert: list },
  { ini: 'trigger.rawhide_release', path: ['ingest', 'rawhide_release'], convert: num },
  // Set empty in production: critpath disabled.
  { ini: 'koji_build_completed.critpath_filepath', path: ['ingest', 'critpath_file'], convert: (v) => v || undefined },
  { ini: 'fedmsg.endpoints', path: ['ingest', 'sources', 'fedmsg', 'endpoints'], convert: list },
  { ini: 'fedmsg.bind', path: ['ingest', 'sources', 'fedmsg', 'bind'], convert: list },
  { ini: 'fedmsg.bind_allow', path: ['ingest', 'sources', 'fedmsg', 'bind_allow'], convert: list },
  { ini: 'fedmsg.topics', path: ['ingest', 'sources', 'fedmsg', 'topics'], convert: (v) => (v.trim() === '' ? [''] : list(v)) },
  { ini: 'fedmsg.max_message_bytes', path: ['ingest', 'sources', 'fedmsg', 'max_message_bytes'], convert: num },
  { ini: 'fedmsg.receive_high_water_mark', path: ['ingest', 'sources', 'fedmsg', 'receive_high_water_mark'], convert: num },
  { ini: 'fedmsg.validate_signatures', path: ['ingest', 'sources', 'fedmsg', 'validate_signatures'], convert: bool },
  { ini: 'fedmsg.ca_cert_location', path: ['ingest', 'sources', 'fedmsg', 'ca_cert'], convert: (v) => v },
  { ini: 'fedmsg.crl_location', path: ['ingest', 'sources', 'fedmsg', 'crl'], convert: (v) => v },
  // fedmsg gives the cache expiries in seconds.
  { ini: 'fedmsg.ca_cert_cache', path: ['ingest', 'sources', 'fedmsg', 'ca_cert_cache'], convert: (v) => v },
  { ini: 'fedmsg.ca_cert_cache_expiry', path: ['ingest', 'sources', 'fedmsg', 'ca_cert_cache_expiry'], convert: seconds },
  { ini: 'fedmsg.crl_cache', path: ['ingest', 'sources', 'fedmsg', 'crl_cache'], convert: (v) => v },
  { ini: 'fedmsg.crl_cache_expiry', path: ['ingest', 'sources', 'fedmsg', 'crl_cache_expiry'], convert: seconds },
  { ini: 'fedmsg.crl_stale', path: ['ingest', 'sources', 'fedmsg', 'crl_stale'], convert: (v) => v },
  { ini: 'fedmsg.routing_nitpicky', path: ['ingest', 'sources', 'fedmsg', 'routing_nitpicky'], convert: bool },
  { ini: 'ingest.state_dir', path: ['ingest', 'state_dir'], convert: (v) => v },
  { ini: 'ingest.task_repo', path: ['ingest', 'task_repo'], convert: (v) => v },
  { ini: 'ingest.task_ref', path: ['ingest', 'task_ref'], convert: (v) => v },
  { ini: 'ingest.trigger_queue', path: ['ingest', 'trigger_queue'], convert: (v) => v },
  { ini: 'ingest.ingest_queue', path: ['ingest', 'ingest_queue'], convert: (v) => v },
  { ini: 'ingest.run_trigger_workflows', path: ['ingest', 'run_trigger_workflows'], convert: bool },
  { ini: 'ingest.job_queue', path: ['ingest', 'job_queue'], convert: (v) => v },
  { ini: 'ingest.memory_queue', path: ['ingest', 'memory_queue'], convert: num },
  { ini: 'ingest.backfill_rate', path: ['ingest', 'backfill_rate'], convert: num },
  { ini: 'amqp.url', path: ['ingest', 'sources', 'amqp', 'url'], convert: (v) => v },
  { ini: 'amqp.exchange', path: ['ingest', 'sources', 'amqp', 'exchange'], convert: (v) => v },
  { ini: 'amqp.queue', path: ['ingest', 'sources', 'amqp', 'queue'], convert: (v) => v },
  { ini: 'amqp.bindings', path: ['ingest', 'sources', 'amqp', 'bindings'], convert: list },
  { ini: 'amqp.prefetch', path: ['ingest', 'sources', 'amqp', 'prefetch'], convert: num },
  { ini: 'amqp.frame_max', path: ['ingest', 'sources', 'amqp', 'frame_max'], convert: num },
  { ini: 'amqp.max_message_bytes', path: ['ingest', 'sources', 'amqp', 'max_message_bytes'], convert: num },
  { ini: 'amqp.tls_ca', path: ['ingest', 'sources', 'amqp', 'tls', 'ca'], convert: (v) => v },
  { ini: 'amqp.tls_cert', path: ['ingest', 'sources', 'amqp', 'tls', 'cert'], convert: (v) => v },
  { ini: 'amqp.tls_key', path: ['ingest', 'sources', 'amqp', 'tls', 'key'], convert: (v) => v },
];

/** `[ingest] sources = fedmsg, amqp`: which buses ingest consumes; in taskotron.yaml, the sections present. */
const SOURCES = ['fedmsg', 'amqp'];

/** Sections and keys the original trigger.cfg has that ingest has no use for. */
const KNOWN_UNUSED = new Set(['buildbot.url', 'trigger.koji_url', 'trigger.execdb_server', 'trigger.runner_type', 'trigger.job_logging', 'trigger.joblog_file']);

export interface TriggerCfgData {
  /** taskotron.yaml-shaped data. */
  data: Record<string, unknown>;
  /** Dot-path in taskotron.yaml → where trigger.cfg set it and under which name. */
  positions: Map<string, { line: number; ini: string }>;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export function readTriggerCfg(text: string, file: string): TriggerCfgData {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const at = (line: number, path: string, message: string, severity: 'error' | 'warning' = 'error') =>
    (severity === 'error' ? errors : warnings).push({ severity, file, line, column: 1, path, message });
  const { sections, errors: syntax } = parseIni(text);
  for (const e of syntax) at(e.line, '', e.message);
  const data: Record<string, unknown> = {};
  const positions = new Map<string, { line: number; ini: string }>();
  let enabledSources: { names: string[]; line: number } | undefined;
  for (const [section, entries] of sections) {
    for (const [key, { value, line }] of entries) {
      const ini = `${section}.${key}`;
      if (ini === 'ingest.sources') {
        const names = list(value);
        const bad = names.find((n) => !SOURCES.includes(n));
        if (bad !== undefined || names.length === 0) at(line, ini, `expected one or more of ${SOURCES.join(', ')}, got '${value}'`);
        else enabledSources = { names, line };
        continue;
      }
      const spec = KEYS.find((k) => k.ini === ini);
      if (!spec) {
        if (!KNOWN_UNUSED.has(ini)) at(line, ini, 'unknown key, ignored', 'warning');
        continue;
      }
      const converted = spec.convert(value);
      if (typeof converted === 'object' && converted !== null && 'error' in converted) {
        at(line, ini, String((converted as { error: string }).error));
        continue;
      }
      if (converted === undefined) continue;
      let node = data;
      for (const segment of spec.path.slice(0, -1)) node = (node[segment] ??= {}) as Record<string, unknown>;
      node[spec.path[spec.path.length - 1]!] = converted;
      positions.set(spec.path.join('.'), { line, ini });
    }
  }
  if (enabledSources) {
    // The buses listed are on (an [amqp] without url is then reported as missing it); the others off.
    const ingest = (data.ingest ??= {}) as Record<string, unknown>;
    const present = (ingest.sources ??= {}) as Record<string, unknown>;
    for (const name of SOURCES) {
      if (enabledSources.names.includes(name)) {
        present[name] ??= {};
        if (!positions.has(`ingest.sources.${name}`)) positions.set(`ingest.sources.${name}`, { line: enabledSources.line, ini: 'ingest.sources' });
      } else delete present[name];
    }
  }
  return { data, positions, errors, warnings };
}
