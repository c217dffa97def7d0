// How the job workflow should schedule the reporting activity. Workflow-safe: type imports only,
// so `src/workflows/` can import this module (it may not import src/activities/report.ts itself).
import type { ActivityOptions, Duration, RetryPolicy } from '@temporalio/common';
import { NON_RETRYABLE_REPORT_FAILURES } from './errors.js';

/** How long a job keeps retrying while ResultsDB is down before it gives up (issue 6: 6 h). */
export const DEFAULT_REPORT_OUTAGE_BUDGET: Duration = '6h';

/**
 * Backoff 5 s, 10 s, 20 s … capped at 5 min: a short blip costs seconds, a long outage costs at
 * most 5 min after ResultsDB is back. Attempts are unlimited; the outage budget ends them.
 */
export const REPORT_RETRY_POLICY: RetryPolicy = {
  initialInterval: '5s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  nonRetryableErrorTypes: [...NON_RETRYABLE_REPORT_FAILURES],
};

/**
 * One attempt may take 30 min (hundreds of results, each request bounded by the client's 60 s
 * timeout); it heartbeats after every request, so a dead runner is noticed within 2 min.
 */
export const REPORT_TIMEOUTS = {
  startToCloseTimeout: '30m',
  heartbeatTimeout: '2m',
} as const satisfies Partial<ActivityOptions>;

/** Options for `proxyActivities` around `reportResults`. */
export function reportActivityOptions(outageBudget: Duration = DEFAULT_REPORT_OUTAGE_BUDGET): ActivityOptions {
  return { ...REPORT_TIMEOUTS, scheduleToCloseTimeout: outageBudget, retry: REPORT_RETRY_POLICY };
}
