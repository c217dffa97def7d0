// Where results go, read once when a runner worker starts. With no ResultsDB URL, results go to
// `${artifactsdir}/taskotron/results.yml` (the original's development profile).
import { formatDiagnostic } from '../formula/diagnostic.js';
import type { Outcome } from '../common/job.js';
import { loadNamespacePolicy, type NamespacePolicy } from './namespaces.js';
import { DEFAULT_NAMESPACE } from './names.js';
import type { ResultBusConfig } from './bus-output.js';

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
  /** Publish a `taskotron.result.new` message per reported result on this fedmsg endpoint and/or AMQP broker. */
  resultBus?: ResultBusConfig;
}

export const DEFAULT_NAMESPACE_POLICY: NamespacePolicy = { safe: [DEFAULT_NAMESPACE], whitelist: {} };
export const DEFAULT_ACCEPTED_OUTCOMES: readonly Outcome[] = ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'CRASHED'];
export const DEFAULT_TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
export const DEFAULT_TESTCASE_REF_URL_BASE = 'https://fedoraproject.org/wiki/Taskotron/Tasks/';

/**
 * TASKOTRON_RESULTSDB_URL, TASKOTRON_NAMESPACES_FILE (a namespaces.yaml), TASKOTRON_ARTIFACTS_BASEURL,
 * TASKOTRON_TEMPORAL_UI_URL, TASKOTRON_RESULT_BUS_BIND or TASKOTRON_RESULT_BUS_CONNECT (+ TASKOTRON_RESULT_BUS_TOPIC),
 * TASKOTRON_RESULT_BUS_AMQP_URL (+ TASKOTRON_RESULT_BUS_AMQP_EXCHANGE).
 * An invalid namespaces file throws, listing every problem.
 */
export function reportingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ReportingConfig {
  const config: ReportingConfig = {};
  if (env.TASKOTRON_RESULTSDB_URL) config.resultsdbUrl = env.TASKOTRON_RESULTSDB_URL;
  if (env.TASKOTRON_ARTIFACTS_BASEURL) config.artifactsBaseUrl = env.TASKOTRON_ARTIFACTS_BASEURL;
  if (env.TASKOTRON_TEMPORAL_UI_URL) config.temporalUiUrl = env.TASKOTRON_TEMPORAL_UI_URL;
  if (env.TASKOTRON_RESULT_BUS_BIND || env.TASKOTRON_RESULT_BUS_CONNECT || env.TASKOTRON_RESULT_BUS_AMQP_URL) {
    config.resultBus = {
      ...(env.TASKOTRON_RESULT_BUS_BIND ? { bind: env.TASKOTRON_RESULT_BUS_BIND } : env.TASKOTRON_RESULT_BUS_CONNECT ? { connect: env.TASKOTRON_RESULT_BUS_CONNECT } : {}),
      ...(env.TASKOTRON_RESULT_BUS_TOPIC ? { topic: env.TASKOTRON_RESULT_BUS_TOPIC } : {}),
      // results_bus.amqp (issue 12): a fedora-messaging broker, e.g. amqps://taskotron:…@rabbitmq/%2Fpubsub.
      ...(env.TASKOTRON_RESULT_BUS_AMQP_URL
        ? { amqp: { url: env.TASKOTRON_RESULT_BUS_AMQP_URL, ...(env.TASKOTRON_RESULT_BUS_AMQP_EXCHANGE ? { exchange: env.TASKOTRON_RESULT_BUS_AMQP_EXCHANGE } : {}) } }
        : {}),
    };
  }
  if (env.TASKOTRON_NAMESPACES_FILE) {
    const loaded = loadNamespacePolicy(env.TASKOTRON_NAMESPACES_FILE);
    if (!loaded.value) throw new Error(`invalid namespaces file:\n${loaded.errors.map(formatDiagnostic).join('\n')}`);
    config.namespaces = loaded.value;
  }
  return config;
}

/** The job's page in the Temporal Web UI. */
export function jobPageUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
