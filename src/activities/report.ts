// The `resultsdb` directive as an activity: validate a job's ResultYAML, then report it, exactly once.
//
// API for the job workflow
// ------------------------
//   const { reportResults } = proxyActivities<ReportingActivities>({ taskQueue: hostQueue, ...reportActivityOptions() });
//   const report = await reportResults({ results: text, job });   // or { file: path, job }
//
// Import `reportActivityOptions` / `REPORT_RETRY_POLICY` / `REPORT_TIMEOUTS` from
// `src/results/policy.js` (workflow-safe; re-exported here for everyone else). Run it on the job's
// host queue: `file:` and `artifact:` paths are on that host.
//
//   input:  { results?: string  // ResultYAML text (`results: ${exported}`), or
//             file?: string     // a ResultYAML file on the host (relative: to job.taskdir)
//             job: ReportJob }  // uuid, task, item, itemType, arch, artifactsdir, and optionally
//                               // namespace (default scratch), taskRepo (for the whitelist),
//                               // taskdir, artifactsBaseUrl, jobUrl (default: this workflow's
//                               // page in the Temporal UI)
//   output: { target: 'resultsdb' | 'file'; reported: ReportedResult[] (in ResultYAML order, each
//             with testcase, item, type, outcome, note?, refUrl?, id?); outcome: the worst outcome
//             (PASSED when there were no results: `reported` is then empty); summary:
//             "3 PASSED, 1 INFO, 2 FAILED"; skipped: results already stored by an earlier attempt
//             or run and not posted again; file?: the results.yml written (file target);
//             warnings: formatted diagnostics }
//
// Failures (ApplicationFailure types; see src/results/errors.ts):
//   InvalidResultYaml (non-retryable; details: the diagnostics with file, line, column, path),
//   ResultsFileMissing (non-retryable), NamespaceNotAllowed (non-retryable), ResultsDBRejected
//   (non-retryable, message = the server's message; details: status, method, url),
//   ResultsDBUnavailable (retryable: 5xx, 408, 429, connection refused, timeout). Nothing is posted
//   before every result has validated and passed the namespace check.
//
// Exactly once: every stored result is recorded in the heartbeat details ({ posted: PostedRecord[] });
// a retry reads them back and also looks the job's group up in ResultsDB (see src/results/reporter.ts),
// so a crash between a POST and its heartbeat does not double a result either.
import { activityInfo, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { worstOutcome, type Outcome } from '../common/job.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import {
  DEFAULT_ACCEPTED_OUTCOMES,
  DEFAULT_NAMESPACE_POLICY,
  DEFAULT_TEMPORAL_UI_URL,
  DEFAULT_TESTCASE_REF_URL_BASE,
  jobPageUrl,
  type ReportingConfig,
} from '../results/config.js';
import { InvalidResultYaml, NamespaceNotAllowed, ReportFailure, ResultsFileMissing } from '../results/errors.js';
import { summary } from '../results/model.js';
import {
  appendResultsFile,
  planReport,
  postResults,
  readResultsInput,
  reportedResult,
  type PostedRecord,
  type ReportedResult,
  type ReportJob,
} from '../results/reporter.js';
import { ResultsDBClient, ResultsDBRejected, ResultsDBUnavailable } from '../results/resultsdb.js';
import { publishResults } from '../results/bus-output.js';

export { DEFAULT_REPORT_OUTAGE_BUDGET, REPORT_RETRY_POLICY, REPORT_TIMEOUTS, reportActivityOptions } from '../results/policy.js';
export { ReportFailure } from '../results/errors.js';
export type { ReportedResult, ReportJob } from '../results/reporter.js';
export type { ReportingConfig } from '../results/config.js';

export interface ReportInput {
  results?: string;
  file?: string;
  job: ReportJob;
}

export interface ReportOutput {
  target: 'resultsdb' | 'file';
  reported: ReportedResult[];
  outcome: Outcome;
  summary: string;
  skipped: number;
  file?: string;
  warnings: string[];
}

/** What a reporting attempt leaves in its heartbeat details for the next attempt. */
export interface ReportHeartbeat {
  posted: PostedRecord[];
}

export function createReportingActivities(config: ReportingConfig) {
  return {
    async reportResults(input: ReportInput): Promise<ReportOutput> {
      try {
        return await report(config, input);
      } catch (error) {
        throw toFailure(error);
      }
    },
  };
}

export type ReportingActivities = ReturnType<typeof createReportingActivities>;

async function report(config: ReportingConfig, input: ReportInput): Promise<ReportOutput> {
  const output = await store(config, input);
  if (config.resultBus && output.reported.length > 0) {
    const job = input.job;
    try {
      const sent = await publishResults(config.resultBus, output.reported, { ...job, ...(output.jobUrl ? { jobUrl: output.jobUrl } : {}) });
      Context.current().log.info(`published ${sent} taskotron.result.new message(s)`);
    } catch (error) {
      // The results are stored; the bus is best effort, as fedmsg always was.
      Context.current().log.warn(`could not publish result messages: ${(error as Error).message}`);
    }
  }
  delete output.jobUrl;
  return output;
}

async function store(config: ReportingConfig, input: ReportInput): Promise<ReportOutput & { jobUrl?: string }> {
  const info = activityInfo();
  const artifactsBaseUrl = input.job.artifactsBaseUrl ?? config.artifactsBaseUrl;
  const job: ReportJob = {
    ...input.job,
    artifactsBaseUrl,
    jobUrl: input.job.jobUrl ?? groupLink(config, input.job, artifactsBaseUrl, info),
  };
  const { text, label } = await readResultsInput(input, job);
  const context = Context.current();
  const client = config.resultsdbUrl
    ? new ResultsDBClient(config.resultsdbUrl, {
        signal: context.cancellationSignal,
        ...(config.auth ? { auth: config.auth } : {}),
        ...(config.requestTimeoutMs ? { timeoutMs: config.requestTimeoutMs } : {}),
        ...(config.fetch ? { fetch: config.fetch } : {}),
      })
    : undefined;
  const namespaces = client ? { namespaces: config.namespaces ?? DEFAULT_NAMESPACE_POLICY } : {};
  let plan = planReport(text, job, { label, ...namespaces });
  const earlier = heartbeatRecords(info.heartbeatDetails);
  // Everything the server would refuse is refused here, before the first POST: a report is never
  // half-stored. The accepted outcomes are the server's own list unless the config pins them; a
  // retry whose every result an earlier attempt stored has nothing left to check (nor to ask).
  const allStored = plan.planned.every((p) => earlier.some((r) => r.index === p.index && r.key === p.key));
  if (client && !allStored) {
    const accepted = config.acceptedOutcomes
      ? { acceptedOutcomes: config.acceptedOutcomes, acceptedFrom: 'resultsdb.accepted_outcomes' }
      : await serverOutcomes(client);
    plan = planReport(text, job, { label, ...namespaces, ...accepted });
  }
  const warnings = plan.warnings.map(formatDiagnostic);
  for (const warning of warnings) context.log.warn(warning);
  const outcome = worstOutcome(plan.planned.map((p) => p.entry.outcome));
  const outcomeSummary = summary(plan.planned.map((p) => p.entry));

  if (!client) {
    const file = join(job.artifactsdir, 'taskotron', 'results.yml');
    const written = await appendResultsFile(file, plan);
    context.log.info(`ResultsDB is not configured: ${plan.planned.length} result(s) (${outcomeSummary || 'none'}) written to ${file}`);
    return { target: 'file', reported: plan.planned.map((p) => reportedResult(p)), outcome, summary: outcomeSummary, skipped: written.skipped, file, warnings, ...(job.jobUrl ? { jobUrl: job.jobUrl } : {}) };
  }

  const stored: PostedRecord[] = [...earlier];
  context.heartbeat({ posted: stored } satisfies ReportHeartbeat);
  const base = config.testcaseRefUrlBase ?? DEFAULT_TESTCASE_REF_URL_BASE;
  const result = await postResults(client, plan, {
    earlier,
    testcaseRefUrl: (name) => `${base}${name}`,
    onStored: (record) => {
      stored.push(record);
      context.heartbeat({ posted: stored } satisfies ReportHeartbeat);
    },
  });
  context.log.info(`reported ${plan.planned.length} result(s) (${outcomeSummary || 'none'}) to ${client.baseUrl}: ${result.posted} posted, ${result.skipped} already there`);
  return {
    target: 'resultsdb',
    reported: plan.planned.map((p) => reportedResult(p, result.ids.get(p.index))),
    outcome,
    summary: outcomeSummary,
    skipped: result.skipped,
    warnings,
    ...(job.jobUrl ? { jobUrl: job.jobUrl } : {}),
  };
}

/** What the server itself lists on its landing page; ResultsDB's preset four when it lists none. */
async function serverOutcomes(client: ResultsDBClient): Promise<{ acceptedOutcomes: readonly string[]; acceptedFrom?: string }> {
  const listed = await client.acceptedOutcomes();
  return listed ? { acceptedOutcomes: listed, acceptedFrom: `as listed by ${client.baseUrl}/` } : { acceptedOutcomes: DEFAULT_ACCEPTED_OUTCOMES };
}

/**
 * The group's ref_url: the job's page in the Temporal UI, or — for a local run whose ephemeral
 * server is gone when the run ends — the job's artifacts (their web URL, else the directory).
 */
function groupLink(config: ReportingConfig, job: ReportJob, artifactsBaseUrl: string | undefined, info: ReturnType<typeof activityInfo>): string | undefined {
  if (config.groupLink === 'artifacts') {
    return artifactsBaseUrl ? `${artifactsBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(job.uuid)}/` : pathToFileURL(`${job.artifactsdir}/`).href;
  }
  if (!info.workflowExecution) return undefined;
  return jobPageUrl(config.temporalUiUrl ?? DEFAULT_TEMPORAL_UI_URL, info.workflowNamespace ?? 'default', info.workflowExecution.workflowId, info.workflowExecution.runId);
}

function heartbeatRecords(details: unknown): PostedRecord[] {
  const posted = (details as Partial<ReportHeartbeat> | undefined)?.posted;
  if (!Array.isArray(posted)) return [];
  return posted.filter(
    (r): r is PostedRecord => typeof r === 'object' && r !== null && typeof r.index === 'number' && typeof r.id === 'number' && typeof r.key === 'string',
  );
}

/** Each reporting error, mapped once onto its Temporal failure. */
function toFailure(error: unknown): unknown {
  if (error instanceof InvalidResultYaml) {
    return ApplicationFailure.nonRetryable(`invalid ResultYAML:\n${error.message}`, ReportFailure.InvalidResultYaml, { diagnostics: error.diagnostics });
  }
  if (error instanceof ResultsFileMissing) {
    return ApplicationFailure.nonRetryable(error.message, ReportFailure.ResultsFileMissing, { file: error.file });
  }
  if (error instanceof NamespaceNotAllowed) {
    return ApplicationFailure.nonRetryable(error.message, ReportFailure.NamespaceNotAllowed, { testcase: error.testcase, path: error.path });
  }
  if (error instanceof ResultsDBRejected) {
    return ApplicationFailure.nonRetryable(error.message, ReportFailure.ResultsDBRejected, { status: error.status, method: error.method, url: error.url });
  }
  if (error instanceof ResultsDBUnavailable) {
    // Retryable: the pending activity shows this message in the UI while the job waits.
    return ApplicationFailure.retryable(`ResultsDB is unavailable, will retry: ${error.message}`, ReportFailure.ResultsDBUnavailable, {
      status: error.status,
      method: error.method,
      url: error.url,
    });
  }
  return error;
}
