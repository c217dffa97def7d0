// The one configuration loader: defaults < taskotron.yaml (or a trigger.cfg) < environment
// variables < command-line options. Every problem is reported at once with the file, line, column
// and key path (or the variable or option that set the value), and every effective value remembers
// where it came from, for `taskotron config show`.
import { existsSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { fedoraArch } from '../common/arch.js';
import { formatDiagnostic, type Diagnostic } from '../formula/diagnostic.js';
import { issueDiagnostics, issueMessages } from '../formula/issues.js';
import { parseLocatedYaml, type SourceMap, type Position } from '../formula/locate.js';
import { suggest } from '../formula/suggest.js';
import { TaskotronConfigSchema, type TaskotronConfig } from './schema.js';
import { isTriggerCfg, readTriggerCfg } from './trigger-cfg.js';

/** Where an effective value came from. */
export type Source =
  | { kind: 'default'; derivedFrom?: string }
  | { kind: 'file'; file: string; line: number; column: number; /** the key's name in a trigger.cfg */ ini?: string }
  | { kind: 'env'; name: string }
  | { kind: 'option'; name: string };

export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'default':
      return source.derivedFrom ? `default (from ${source.derivedFrom})` : 'default';
    case 'file':
      return `${source.file}:${source.line}${source.ini ? ` (${source.ini})` : ''}`;
    case 'env':
      return `env ${source.name}`;
    case 'option':
      return `option ${source.name}`;
  }
}

/** A value set on the command line, which beats everything else. */
export interface ConfigOverride {
  /** Dot-path in taskotron.yaml, e.g. `runner.root`. */
  path: string;
  value: unknown;
  /** The option's name as typed, e.g. `--root`. */
  option: string;
}

export interface LoadConfigOptions {
  /** taskotron.yaml or trigger.cfg; omitted: defaults and environment only. */
  file?: string;
  /** The file's text, when already read (tests, `validate`). */
  text?: string;
  /** Default: process.env. Pass {} to read the file alone. */
  env?: NodeJS.ProcessEnv;
  overrides?: readonly ConfigOverride[];
  /** Relative paths from variables and options are taken from here. */
  cwd?: string;
}

/** A loaded configuration: the defaults that depend on this machine or on other keys are filled in. */
export type ResolvedConfig = TaskotronConfig & {
  runner: TaskotronConfig['runner'] & {
    root: string;
    hostname: string;
    arch: string;
    download_cache: TaskotronConfig['runner']['download_cache'] & { dir: string };
  };
  artifacts: TaskotronConfig['artifacts'] & { dir: string };
};

export interface LoadedConfig {
  /** Present only when there are no errors. */
  value?: ResolvedConfig;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** Dot-path of every leaf → where its effective value came from. */
  sources: Map<string, Source>;
  file?: string;
}

// ---- the schema's leaves and their environment variables -----------------------------------------

export type LeafKind = 'string' | 'boolean' | 'number' | 'list' | 'size' | 'string-or-false' | 'json';

export interface Leaf {
  path: readonly string[];
  kind: LeafKind;
  /** `format: 'path'` values are file system paths. */
  isPath: boolean;
  /** Every variable that sets it, in order of precedence. */
  env: string[];
  description?: string;
  secret: boolean;
}

/**
 * The names in use before taskotron.yaml existed, and the ones Temporal's own tools read. They win
 * over the systematic TASKOTRON_<SECTION>_<KEY> name, because `npm start` and existing deployments set them.
 */
const ENV_ALIASES: Record<string, readonly string[]> = {
  'temporal.address': ['TEMPORAL_ADDRESS'],
  'temporal.namespace': ['TEMPORAL_NAMESPACE'],
  'temporal.api_key': ['TEMPORAL_API_KEY'],
  'temporal.tls.ca': ['TEMPORAL_TLS_CA'],
  'temporal.tls.cert': ['TEMPORAL_TLS_CERT'],
  'temporal.tls.key': ['TEMPORAL_TLS_KEY'],
  'runner.install_deps': ['TASKOTRON_INSTALL_DEPS'],
  'runner.python': ['TASKOTRON_PYTHON'],
  'runner.sandbox.backend': ['TASKOTRON_SANDBOX'],
  'runner.sandbox.network': ['TASKOTRON_SANDBOX_NETWORK'],
  'runner.koji_url': ['TASKOTRON_KOJI_URL'],
  'runner.pkg_url': ['TASKOTRON_PKG_URL'],
  'runner.bodhi_url': ['TASKOTRON_BODHI_URL'],
  'runner.distgit_url': ['TASKOTRON_DISTGIT_URL'],
  'runner.yumrepoinfo': ['TASKOTRON_YUMREPOINFO'],
  'runner.download_cache.enabled': ['TASKOTRON_DOWNLOAD_CACHE_ENABLED'],
  'runner.download_cache.dir': ['TASKOTRON_DOWNLOAD_CACHE_DIR'],
  'runner.download_cache.max_size': ['TASKOTRON_DOWNLOAD_CACHE_MAX_SIZE'],
  'ingest.sources.amqp.url': ['TASKOTRON_AMQP_URL'],
  'resultsdb.namespaces_file': ['TASKOTRON_NAMESPACES_FILE'],
  'artifacts.base_url': ['TASKOTRON_ARTIFACTS_BASEURL'],
  'results_bus.fedmsg.bind': ['TASKOTRON_RESULT_BUS_BIND'],
  'results_bus.fedmsg.connect': ['TASKOTRON_RESULT_BUS_CONNECT'],
  'results_bus.fedmsg.topic': ['TASKOTRON_RESULT_BUS_TOPIC'],
  'results_bus.amqp.url': ['TASKOTRON_RESULT_BUS_AMQP_URL'],
  'results_bus.amqp.exchange': ['TASKOTRON_RESULT_BUS_AMQP_EXCHANGE'],
  'logging.level': ['TASKOTRON_LOG_LEVEL'],
  'logging.format': ['TASKOTRON_LOG_FORMAT'],
};

/** Values never printed in full. */
const SECRETS = new Set(['temporal.api_key']);

/** The variable naming the configuration file. */
export const CONFIG_FILE_ENV = 'TASKOTRON_CONFIG';

type AnySchema = z.ZodType;

function unwrap(schema: AnySchema): { inner: AnySchema; meta: Record<string, unknown> } {
  let at = schema;
  const meta: Record<string, unknown> = {};
  for (let depth = 0; depth < 10; depth++) {
    Object.assign(meta, { ...(at.meta() ?? {}), ...meta });
    if (at instanceof z.ZodOptional || at instanceof z.ZodDefault || at instanceof z.ZodPrefault) at = at.unwrap() as AnySchema;
    else break;
  }
  Object.assign(meta, { ...(at.meta() ?? {}), ...meta });
  return { inner: at, meta };
}

function leafKind(schema: AnySchema, meta: Record<string, unknown>): LeafKind {
  if (meta.format === 'listen') return 'string-or-false';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodNumber) return 'number';
  if (schema instanceof z.ZodArray) return 'list';
  // A mapping (routing_policy) in one variable: JSON is the least surprising spelling.
  if (schema instanceof z.ZodRecord) return 'json';
  if (schema instanceof z.ZodUnion) {
    const options = schema.options as readonly AnySchema[];
    if (options.some((o) => o instanceof z.ZodLiteral)) return 'string-or-false';
    if (options.some((o) => o instanceof z.ZodNumber)) return 'size';
  }
  return 'string';
}

function collectLeaves(schema: AnySchema, path: string[], out: Leaf[]): void {
  const { inner, meta } = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, AnySchema>)) collectLeaves(child, [...path, key], out);
    return;
  }
  const dotted = path.join('.');
  const canonical = `TASKOTRON_${path.join('_').toUpperCase()}`;
  out.push({
    path,
    kind: leafKind(inner, meta),
    isPath: meta.format === 'path',
    env: [...(ENV_ALIASES[dotted] ?? []), canonical].filter((name, i, all) => all.indexOf(name) === i),
    ...(typeof meta.description === 'string' ? { description: meta.description } : {}),
    secret: SECRETS.has(dotted),
  });
}

let leaves: Leaf[] | undefined;

/** Every setting of taskotron.yaml, in schema order. */
export function configLeaves(): readonly Leaf[] {
  if (!leaves) {
    leaves = [];
    collectLeaves(TaskotronConfigSchema, [], leaves);
  }
  return leaves;
}

function parseEnvValue(leaf: Leaf, raw: string): { value: unknown } | { error: string } {
  switch (leaf.kind) {
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return { value: true };
      if (/^(0|false|no|off)$/i.test(raw)) return { value: false };
      return { error: `expected true or false (or 1/0, yes/no, on/off), got '${raw}'` };
    case 'number':
      return /^[0-9]+$/.test(raw.trim()) ? { value: Number(raw) } : { error: `expected a whole number, got '${raw}'` };
    case 'list':
      return { value: raw.split(',').map((s) => s.trim()).filter(Boolean) };
    case 'size':
      return { value: /^[0-9]+$/.test(raw.trim()) ? Number(raw) : raw.trim() };
    case 'string-or-false':
      return { value: /^(false|off|no|none)$/i.test(raw) ? false : raw };
    case 'string':
      return { value: raw };
    case 'json':
      try {
        return { value: JSON.parse(raw) as unknown };
      } catch (error) {
        return { error: `expected JSON, e.g. {"topic": ["cert.name"]}: ${(error as Error).message}` };
      }
  }
}

// ---- loading ------------------------------------------------------------------------------------

/** Relative file paths are resolved; a URL (fedmsg's ca_cert / crl may be one) is left as it is. */
const isRelativePath = (value: string) => !isAbsolute(value) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value);

function getAt(data: unknown, path: readonly string[]): unknown {
  let at = data;
  for (const segment of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, segment)) return undefined;
    at = (at as Record<string, unknown>)[segment];
  }
  return at;
}

/** Sets a value, creating sections on the way; false when a non-mapping is in the way (reported by the schema). */
function setAt(data: Record<string, unknown>, path: readonly string[], value: unknown): boolean {
  let node = data;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (next === undefined || next === null) node[segment] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) return false;
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return true;
}

interface Located {
  data: unknown;
  locate: Pick<SourceMap, 'value' | 'key' | 'missing'>;
  positions: Map<string, { line: number; column: number; ini?: string }>;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

function readYaml(text: string, file: string): Located {
  const { doc, map, errors, warnings } = parseLocatedYaml(text, file);
  const empty = { data: {}, locate: map, positions: new Map(), warnings };
  if (errors.length > 0) return { ...empty, errors };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { ...empty, errors: [{ severity: 'error', file, line: 1, column: 1, path: '', message: `YAML: ${(e as Error).message}` }] };
  }
  // An empty file (or only comments) is all defaults.
  if (data === null || data === undefined) data = {};
  const positions = new Map<string, { line: number; column: number }>();
  for (const leaf of configLeaves()) {
    if (getAt(data, leaf.path) !== undefined) positions.set(leaf.path.join('.'), map.value(leaf.path));
  }
  return { data, locate: map, positions, errors: [], warnings };
}

function readCfg(text: string, file: string): Located {
  const cfg = readTriggerCfg(text, file);
  const positions = new Map<string, { line: number; column: number; ini?: string }>();
  for (const [path, { line, ini }] of cfg.positions) positions.set(path, { line, column: 1, ini });
  const find = (path: readonly PropertyKey[]): Position => {
    const dotted = path.map(String).join('.');
    for (const [key, at] of positions) if (key === dotted || key.startsWith(`${dotted}.`) || dotted.startsWith(`${key}.`)) return at;
    return { line: 1, column: 1 };
  };
  return { data: cfg.data, locate: { value: find, key: find, missing: find }, positions, errors: cfg.errors, warnings: cfg.warnings };
}

/** Reads and validates the configuration; never throws for bad input, returns every problem. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sources = new Map<string, Source>();
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  let located: Located = { data: {}, locate: { value: () => ({ line: 1, column: 1 }), key: () => ({ line: 1, column: 1 }), missing: () => ({ line: 1, column: 1 }) }, positions: new Map(), errors: [], warnings: [] };
  const file = options.file;

  if (file !== undefined) {
    let text = options.text;
    if (text === undefined) {
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        errors.push({ severity: 'error', file, line: 1, column: 1, path: '', message: `cannot read the configuration: ${(e as Error).message}` });
        return { errors, warnings, sources, file };
      }
    }
    located = isTriggerCfg(file, text) ? readCfg(text, file) : readYaml(text, file);
    errors.push(...located.errors);
    warnings.push(...located.warnings);
    if (located.errors.length > 0) return { errors: sorted(errors), warnings: sorted(warnings), sources, file };
    if (typeof located.data !== 'object' || Array.isArray(located.data)) {
      errors.push({ severity: 'error', file, line: 1, column: 1, path: '', message: `expected a mapping of sections (temporal, runner, ingest, …), got ${Array.isArray(located.data) ? 'a list' : 'a single value'}` });
      return { errors, warnings, sources, file };
    }
    for (const [path, at] of located.positions) sources.set(path, { kind: 'file', file, line: at.line, column: at.column, ...(at.ini ? { ini: at.ini } : {}) });
  }
  const data = structuredClone(located.data) as Record<string, unknown>;
  const base = file !== undefined ? dirname(resolve(cwd, file)) : cwd;

  for (const leaf of configLeaves()) {
    const dotted = leaf.path.join('.');
    // Relative paths in a file are relative to that file, so a config and its rules can move together.
    const fromFile = getAt(data, leaf.path);
    if (leaf.isPath && typeof fromFile === 'string' && isRelativePath(fromFile)) setAt(data, leaf.path, resolve(base, fromFile));

    const set = leaf.env.filter((name) => env[name] !== undefined && env[name] !== '');
    const name = set[0];
    if (name === undefined) continue;
    const raw = env[name]!;
    for (const other of set.slice(1)) {
      if (env[other] !== raw) warnings.push({ severity: 'warning', file: `env ${other}`, line: 0, column: 0, path: dotted, message: `ignored: ${name} is set too and wins` });
    }
    const parsed = parseEnvValue(leaf, raw);
    if ('error' in parsed) {
      errors.push({ severity: 'error', file: `env ${name}`, line: 0, column: 0, path: dotted, message: parsed.error });
      continue;
    }
    const value = leaf.isPath && typeof parsed.value === 'string' && isRelativePath(parsed.value) ? resolve(cwd, parsed.value) : parsed.value;
    if (setAt(data, leaf.path, value)) sources.set(dotted, { kind: 'env', name });
  }

  warnings.push(...unknownVariables(env));

  for (const override of options.overrides ?? []) {
    const leaf = configLeaves().find((l) => l.path.join('.') === override.path);
    if (!leaf) throw new Error(`no setting ${override.path} for ${override.option}`);
    const value = leaf.isPath && typeof override.value === 'string' && isRelativePath(override.value) ? resolve(cwd, override.value) : override.value;
    if (setAt(data, leaf.path, value)) sources.set(override.path, { kind: 'option', name: override.option });
  }

  const parsed = TaskotronConfigSchema.safeParse(data, { error: issueMessages, reportInput: true });
  if (!parsed.success) {
    const diagnostics = issueDiagnostics(parsed.error.issues, { file: file ?? '(defaults)', map: located.locate, data, schema: TaskotronConfigSchema });
    errors.push(...diagnostics.map((d) => relocate(d, sources)));
  }
  if (errors.length > 0) return { errors: sorted(errors), warnings: sorted(warnings), sources, file };

  const value = fillDerived(parsed.data!, sources);
  for (const leaf of configLeaves()) {
    const dotted = leaf.path.join('.');
    if (!sources.has(dotted)) sources.set(dotted, { kind: 'default' });
  }
  return { value, errors: [], warnings: sorted(warnings), sources, ...(file !== undefined ? { file } : {}) };
}

/** TASKOTRON_<SECTION>_… variables that set nothing: most likely a typo. */
function unknownVariables(env: NodeJS.ProcessEnv): Diagnostic[] {
  const known = new Set(configLeaves().flatMap((leaf) => leaf.env));
  const prefixes = CONFIG_SECTIONS.map((section) => `TASKOTRON_${section.toUpperCase()}_`);
  return Object.keys(env)
    .filter((name) => !known.has(name) && prefixes.some((p) => name.startsWith(p)) && env[name] !== '')
    .sort()
    .map((name) => {
      // Compared without the common prefix, so the distance measures the part that differs.
      const suggestion = suggest(name.slice('TASKOTRON_'.length).toLowerCase(), [...known].map((k) => k.replace(/^TASKOTRON_/, '').toLowerCase()));
      const hint = suggestion ? ` — did you mean TASKOTRON_${suggestion.toUpperCase()}?` : '';
      return { severity: 'warning', file: `env ${name}`, line: 0, column: 0, path: '', message: `unknown setting, ignored${hint}` } satisfies Diagnostic;
    });
}

/** A problem with a value set by a variable or an option names that, not a file position. */
function relocate(d: Diagnostic, sources: Map<string, Source>): Diagnostic {
  let best: [string, Source] | undefined;
  for (const entry of sources) {
    const [key] = entry;
    const dotted = d.path.replace(/\[\d+\]/g, '');
    if ((dotted === key || dotted.startsWith(`${key}.`)) && (!best || key.length > best[0].length)) best = entry;
  }
  const source = best?.[1];
  if (source?.kind === 'env') return { ...d, file: `env ${source.name}`, line: 0, column: 0 };
  if (source?.kind === 'option') return { ...d, file: `option ${source.name}`, line: 0, column: 0 };
  if (source?.kind === 'file' && source.ini) return { ...d, path: source.ini };
  return d;
}

/** Defaults that depend on other values or on this machine. */
function fillDerived(config: TaskotronConfig, sources: Map<string, Source>): ResolvedConfig {
  const derived = (path: string, from?: string) => sources.set(path, { kind: 'default', ...(from ? { derivedFrom: from } : {}) });
  if (!config.runner.root) {
    config.runner.root = join(tmpdir(), 'taskotron');
    derived('runner.root', 'the system temporary directory');
  }
  if (!config.runner.hostname) {
    config.runner.hostname = hostname();
    derived('runner.hostname', "the machine's hostname");
  }
  if (!config.runner.arch) {
    config.runner.arch = fedoraArch();
    derived('runner.arch', "the machine's architecture");
  }
  if (!config.artifacts.dir) {
    config.artifacts.dir = join(config.runner.root, 'artifacts');
    derived('artifacts.dir', 'runner.root');
  }
  if (!config.runner.download_cache.dir) {
    config.runner.download_cache.dir = join(config.runner.root, 'cache', 'downloads');
    derived('runner.download_cache.dir', 'runner.root');
  }
  return config as ResolvedConfig;
}

/** The file's problems in file order, then those of variables and options. */
function sorted(diagnostics: Diagnostic[]): Diagnostic[] {
  const rank = (d: Diagnostic) => (d.line > 0 ? 0 : 1);
  return diagnostics.sort((a, b) => rank(a) - rank(b) || a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** The configuration could not be loaded; `diagnostics` says every reason. */
export class ConfigError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(`invalid configuration:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The configuration, or a ConfigError listing every problem. */
export function readConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const loaded = loadConfig(options);
  if (!loaded.value) throw new ConfigError(loaded.errors);
  return loaded.value;
}

/**
 * Which file to read: `--config`, else $TASKOTRON_CONFIG, else ./taskotron.yaml, else
 * /etc/taskotron/taskotron.yaml, else none (defaults and environment).
 */
export function configFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (explicit) return explicit;
  if (env[CONFIG_FILE_ENV]) return env[CONFIG_FILE_ENV];
  for (const candidate of [join(cwd, 'taskotron.yaml'), '/etc/taskotron/taskotron.yaml']) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** The effective value at a dot-path, for printing. */
export function valueAt(config: ResolvedConfig, path: readonly string[]): unknown {
  return getAt(config, path);
}


/** Top-level keys of taskotron.yaml. */
export const CONFIG_SECTIONS: readonly string[] = Object.keys(TaskotronConfigSchema.shape);

/**
 * True for a configuration file, by name (`taskotron.yaml`, `taskotron.prod.yaml`, `*.cfg`) or by
 * content (a mapping whose top-level keys are all configuration sections).
 */
export function isConfigFile(file: string, text?: string): boolean {
  const base = basename(file);
  if (/^taskotron(?:[.-][^/]*)?\.ya?ml$/i.test(base) || /\.(cfg|ini)$/i.test(base)) return true;
  if (text === undefined) return false;
  const keys = [...text.matchAll(/^([A-Za-z_][\w-]*)\s*:/gm)].map((m) => m[1]!);
  return keys.length > 0 && keys.every((k) => CONFIG_SECTIONS.includes(k));
}

/** `taskotron validate`: the file alone (no environment), every problem at once. */
export function validateConfigText(text: string, file: string): { errors: Diagnostic[]; warnings: Diagnostic[] } {
  const { errors, warnings } = loadConfig({ file, text, env: {} });
  return { errors, warnings };
}
