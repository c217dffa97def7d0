// `taskotron setup`: makes any Temporal cluster ready for taskotron, idempotently. It registers the
// namespace when it is missing (with the configured retention, or sets the retention when it
// differs) and adds the custom search attributes jobs carry when they are missing. Running it again
// changes nothing; the compose stack runs it once before ingest and the runners start.
import { Connection, isGrpcServiceError } from '@temporalio/client';
import protos from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time.js';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes.js';
import { configDurationSeconds } from '../config/schema.js';
import { connectionOptions, temporalSettings, type TemporalSettings } from '../config/temporal.js';
import { configFromOptions } from './options.js';
import { overridesFrom, temporalOverrides } from './option-defs.js';

// A CommonJS module: its namespace is its default export under ESM.
const { IndexedValueType } = protos.temporal.api.enums.v1;

export interface SetupOptions {
  namespace: string;
  retentionSeconds: number;
  /** Default: every search attribute a job carries (src/common/search-attributes.ts). */
  attributes?: ReadonlyArray<{ name: string; type: string }>;
  /** How long to wait for a new namespace or attribute to become visible (a cluster's caches refresh every few seconds). */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface SetupReport {
  namespace: 'registered' | 'present' | 'retention updated';
  added: string[];
  present: string[];
}

// gRPC status codes (grpc/status.proto).
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const code = (error: unknown) => (isGrpcServiceError(error) ? error.code : undefined);

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not done within ${timeoutMs / 1000} s${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function indexedType(type: string): number {
  const value = (IndexedValueType as unknown as Record<string, number>)[`INDEXED_VALUE_TYPE_${type}`];
  if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
  return value;
}

interface WantedAttribute {
  name: string;
  type: string;
  value: number;
}

const jobAttributes = (): WantedAttribute[] => SEARCH_ATTRIBUTES.map((key) => ({ name: key.name, type: key.type as string, value: indexedType(key.type as string) }));

/** The wanted attributes a namespace's listing has, lacks, or has with another type (as sentences). */
function compareAttributes(listed: Record<string, number>, wanted: readonly WantedAttribute[], namespace: string) {
  const present: string[] = [];
  const missing: WantedAttribute[] = [];
  const mismatched: string[] = [];
  for (const attribute of wanted) {
    const have = listed[attribute.name];
    if (have === undefined) missing.push(attribute);
    else if (have !== attribute.value) mismatched.push(`search attribute ${attribute.name} exists in ${namespace} as ${IndexedValueType[have] ?? have}, but taskotron needs ${attribute.type}`);
    else present.push(attribute.name);
  }
  return { present, missing, mismatched };
}

export async function setupCluster(connection: Connection, options: SetupOptions): Promise<SetupReport> {
  const log = options.log ?? (() => undefined);
  const settle = options.settleTimeoutMs ?? 60_000;
  const { namespace } = options;
  const retention = msToTs(options.retentionSeconds * 1000);
  let state: SetupReport['namespace'] = 'present';
  try {
    const described = await connection.workflowService.describeNamespace({ namespace });
    const current = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    if (current !== options.retentionSeconds) {
      await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: retention } });
      state = 'retention updated';
      log(`namespace ${namespace}: retention ${current / 86_400}d → ${options.retentionSeconds / 86_400}d`);
    } else {
      log(`namespace ${namespace}: present (retention ${current / 86_400}d)`);
    }
  } catch (error) {
    if (code(error) !== NOT_FOUND) throw error;
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention });
      state = 'registered';
      log(`namespace ${namespace}: registered (retention ${options.retentionSeconds / 86_400}d)`);
    } catch (raced) {
      // Another `taskotron setup` registered it first: that is the state we want.
      if (code(raced) !== ALREADY_EXISTS) throw raced;
    }
  }

  const wanted = options.attributes?.map((a) => ({ ...a, value: indexedType(a.type) })) ?? jobAttributes();
  // A new namespace reaches the operator service through the cluster's namespace cache: wait for it.
  const listed = await until(`search attributes of ${namespace}`, settle, async () => (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {});
  const { present, missing, mismatched } = compareAttributes(listed, wanted, namespace);
  if (mismatched.length > 0) throw new Error(`${mismatched[0]}: remove it or use another namespace`);
  if (missing.length > 0) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((a) => [a.name, a.value])),
      });
    } catch (error) {
      if (code(error) !== ALREADY_EXISTS) throw error;
    }
    await until(`adding search attributes to ${namespace}`, settle, async () => {
      const now = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
      return missing.every((a) => now[a.name] === a.value) ? true : undefined;
    });
    log(`search attributes added: ${missing.map((a) => a.name).join(', ')}`);
  }
  if (present.length > 0) log(`search attributes present: ${present.join(', ')}`);
  return { namespace: state, added: missing.map((a) => a.name), present };
}

/**
 * What keeps a job from running on a server that answers: its namespace missing, or search
 * attributes the job workflow sets missing. Either way every workflow task of the job would fail on
 * the server ("BadSearchAttributes") and be retried forever, so a job would never end (runtask printed nothing
 * and hung; a runner host polls on, failing each task) — a plain `temporal server start-dev` is
 * exactly such a server. Undefined when it is ready, or when the server will not say.
 */
export async function serverNotReady(settings: TemporalSettings): Promise<string | undefined> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 5000 });
  } catch {
    return undefined;
  }
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace: settings.namespace });
    const { missing, mismatched } = compareAttributes(listed.customAttributes ?? {}, jobAttributes(), settings.namespace);
    const problems = [
      ...(missing.length > 0 ? [`namespace ${settings.namespace} lacks the search attributes jobs set (${missing.map((a) => a.name).join(', ')})`] : []),
      ...mismatched,
    ];
    return problems.length > 0 ? problems.join('; ') : undefined;
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === NOT_FOUND) return `namespace ${settings.namespace} does not exist`;
    // Anything else (an API key without the operator service's permission, as on a hosted
    // cluster) says nothing of the namespace: the caller goes on as before this check.
    return undefined;
  } finally {
    await connection.close();
  }
}

/** `taskotron setup` (its options: setup-command.ts). */
export async function runSetup(options: { config?: string; address?: string; namespace?: string; retention?: string }): Promise<void> {
  const config = configFromOptions(options, [...temporalOverrides(options), ...overridesFrom([['--retention', options.retention, 'temporal.retention']])]);
  const settings = temporalSettings(config.temporal);
  const connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 10_000 });
  try {
    const report = await setupCluster(connection, {
      namespace: settings.namespace,
      retentionSeconds: configDurationSeconds(config.temporal.retention)!,
      log: (line) => console.log(`taskotron setup: ${line}`),
    });
    console.log(`taskotron setup: ${settings.address} namespace ${settings.namespace} ready (${report.namespace}; ${report.added.length} search attribute(s) added)`);
  } finally {
    await connection.close();
  }
}
