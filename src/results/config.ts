// Where results go, read once when a runner worker starts. With no ResultsDB URL, results go to
// `${artifactsdir}/taskotron/results.yml` (the original's development profile).
import { readFileSync } from 'node:fs';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { OUTCOMES, type Outcome } from '../common/job.js';
import { loadNamespacePolicy, type NamespacePolicy } from './namespaces.js';
import { DEFAULT_NAMESPACE } from './names.js';
import type { ResultBusConfig } from './bus-output.js';
import type { BasicAuth } from './resultsdb.js';
import { configFile, readConfig, type ResolvedConfig } from '../config/load.js';
import { configDurationSeconds } from '../config/schema.js';

export interface ReportingConfig {
  /** ResultsDB API root, e.g. `https://resultsdb.example.org/api/v2.0`. Unset: the file target. */
  resultsdbUrl?: string;
  /** Who may post where. Unset: only the safe namespace `scratch` (nobody is whitelisted). */
  namespaces?: NamespacePolicy;
  /** Public URL of the artifacts root; a job's artifacts are at `<url>/<uuid>/`. */
  artifactsBaseUrl?: string;
  /** The Temporal Web UI: groups link to the job's page there. */
  temporalUiUrl?: string;
  /** ref_url given to a testcase ResultsDB does not know yet: this prefix + testcase name. */
  testcaseRefUrlBase?: string;
  /**
   * What this ResultsDB accepts. Unset (the normal case): asked from the server itself before each
   * report (its landing page lists them), so a server's ADDITIONAL_RESULT_OUTCOMES are followed.
   */
  acceptedOutcomes?: readonly Outcome[];
  /** HTTP basic auth for ResultsDB (a proxy in front of it); the password is read from a file. */
  auth?: BasicAuth;
  /**
   * What the ResultsDB group links to: the job's page in the Temporal UI (default), or the job's
   * artifacts — for a local run on an ephemeral server, whose UI is gone once the run ends.
   */
  groupLink?: 'job' | 'artifacts';
  /** Per HTTP request. */
  requestTimeoutMs?: number;
  /** For tests. */
  fetch?: typeof fetch;
  /** Publish a `taskotron.result.new` message per reported result on this fedmsg endpoint and/or AMQP broker. */
  resultBus?: ResultBusConfig;
}

export const DEFAULT_NAMESPACE_POLICY: NamespacePolicy = { safe: [DEFAULT_NAMESPACE], whitelist: {} };
/** ResultsDB 2.x's preset outcomes: what a server that does not list its own accepts. */
export const DEFAULT_ACCEPTED_OUTCOMES: readonly Outcome[] = ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION'];
export const DEFAULT_TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
export const DEFAULT_TESTCASE_REF_URL_BASE = 'https://fedoraproject.org/wiki/Taskotron/Tasks/';

/**
 * The reporting settings of the configuration: the `resultsdb`, `artifacts.base_url`,
 * `temporal.ui_url` and `results_bus` keys. An invalid namespaces file throws, listing every problem.
 */
export function reportingConfig(config: ResolvedConfig): ReportingConfig {
  const out: ReportingConfig = {
    temporalUiUrl: config.temporal.ui_url,
    testcaseRefUrlBase: config.resultsdb.testcase_ref_url_base,
    requestTimeoutMs: configDurationSeconds(config.resultsdb.request_timeout)! * 1000,
  };
  const resultsdb = config.resultsdb;
  if (resultsdb.url) out.resultsdbUrl = resultsdb.url;
  if (resultsdb.accepted_outcomes) out.acceptedOutcomes = resultsdb.accepted_outcomes;
  if (resultsdb.username || resultsdb.password_file) out.auth = basicAuthFrom(resultsdb.username, resultsdb.password_file);
  if (config.artifacts.base_url) out.artifactsBaseUrl = config.artifacts.base_url;
  const bus = config.results_bus.fedmsg;
  const amqp = config.results_bus.amqp;
  if (bus || amqp) {
    out.resultBus = {
      ...(bus ? { ...(bus.bind ? { bind: bus.bind } : { connect: bus.connect! }), topic: bus.topic } : {}),
      // results_bus.amqp (issue 12): a fedora-messaging broker, e.g. amqps://taskotron:…@rabbitmq/%2Fpubsub.
      ...(amqp ? { amqp: { url: amqp.url, exchange: amqp.exchange } } : {}),
    };
  }
  if (resultsdb.namespaces_file) {
    const loaded = loadNamespacePolicy(resultsdb.namespaces_file);
    if (!loaded.value) throw new Error(`invalid namespaces file:\n${loaded.errors.map(formatDiagnostic).join('\n')}`);
    out.namespaces = loaded.value;
  }
  return out;
}

/** The reporting settings of the configuration ($TASKOTRON_CONFIG or the usual places, then `env`). */
export function reportingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ReportingConfig {
  return reportingConfig(readConfig({ file: configFile(undefined, env), env }));
}

/** The job's page in the Temporal Web UI. */
export function jobPageUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/** Basic auth from a user name and a file holding the password (its trailing newline dropped). */
export function basicAuthFrom(username: string | undefined, passwordFile: string | undefined): BasicAuth {
  if (!username || !passwordFile) {
    throw new Error('ResultsDB auth needs both resultsdb.username (TASKOTRON_RESULTSDB_USERNAME) and resultsdb.password_file (TASKOTRON_RESULTSDB_PASSWORD_FILE)');
  }
  let password: string;
  try {
    password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`resultsdb.password_file: cannot read ${passwordFile}: ${(error as Error).message}`);
  }
  if (!password) throw new Error(`resultsdb.password_file: ${passwordFile} is empty`);
  return { username, password };
}

/** `PASSED,INFO,FAILED` → outcomes; an unknown name throws, naming it. */
export function parseOutcomeList(text: string): Outcome[] {
  const names = text.split(',').map((o) => o.trim().toUpperCase()).filter(Boolean);
  const unknown = names.filter((o) => !(OUTCOMES as readonly string[]).includes(o));
  if (unknown.length > 0) throw new Error(`resultsdb.accepted_outcomes: ${unknown.join(', ')} is not an outcome: use ${OUTCOMES.join(', ')}`);
  return names as Outcome[];
}
