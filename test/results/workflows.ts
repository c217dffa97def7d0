// A workflow as small as the job workflow's reporting step: one `reportResults` activity with the
// retry policy and timeouts src/results/policy.ts recommends. Bundled by the tests in this folder.
// `timeScale` divides the policy's backoff intervals (coefficient, attempts, timeouts and
// non-retryable types stay), so a test can play a two-minute outage against the real policy's
// backoff shape in a tenth of the time; 1 (the default) is the real policy unchanged.
import { msToNumber } from '@temporalio/common/lib/time.js';
import { proxyActivities } from '@temporalio/workflow';
import type { ReportInput, ReportingActivities, ReportOutput } from '../../src/activities/report.js';
import { reportActivityOptions } from '../../src/results/policy.js';

export async function reportOnce(input: ReportInput, timeScale = 1): Promise<ReportOutput> {
  const options = reportActivityOptions();
  const retry = options.retry!;
  const scaled = (interval: typeof retry.initialInterval) => (interval === undefined ? undefined : msToNumber(interval) / timeScale);
  const { reportResults } = proxyActivities<ReportingActivities>({
    ...options,
    retry: { ...retry, initialInterval: scaled(retry.initialInterval), maximumInterval: scaled(retry.maximumInterval) },
  });
  return reportResults(input);
}
