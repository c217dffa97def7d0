// Where results go, read once when a runner worker starts. With no ResultsDB URL, results go to
// `${artifactsdir}/taskotron/results.yml` (the original's development profile).
import { formatDiagnostic } from '../formula/diagnostic.js';
import type { Outcome } from '../common/job.js';
import { loadNamespacePolicy, type NamespacePolicy } from './namespaces.js';
import { DEFAULT_NAMESPACE } from './names.js';
import type { ResultBusConfig } from './bus-output.js';
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
  /** What this ResultsDB accepts (2.0: PASSED, INFO, FAILED, NEEDS_INSPECTION; Fedora added CRASHED). */
  acceptedOutcomes?: readonly Outcome[];
  /** Per HTTP request. */
  requestTimeoutMs?: number;
  /** For tests. */
  fetch?: typeof fetch;
  /** Publish a `taskotron.result.new` message per reported result on this fedmsg endpoint. */
  resultBus?: ResultBusConfig;
}

export const DEFAULT_NAMESPACE_POLICY: NamespacePolicy = { safe: [DEFAULT_NAMESPACE], whitelist: {} };
export const DEFAULT_ACCEPTED_OUTCOMES: readonly Outcome[] = ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'CRASHED'];
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
  if (config.artifacts.base_url) out.artifactsBaseUrl = config.artifacts.base_url;
  const bus = config.results_bus.fedmsg;
  if (bus) out.resultBus = { ...(bus.bind ? { bind: bus.bind } : { connect: bus.connect! }), topic: bus.topic };
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
