// A workflow as small as the job workflow's reporting step: one `reportResults` activity with the
// retry policy and timeouts src/results/policy.ts recommends. Bundled by the tests in this folder.
import { proxyActivities } from '@temporalio/workflow';
import type { ReportInput, ReportingActivities, ReportOutput } from '../../src/activities/report.js';
import { reportActivityOptions } from '../../src/results/policy.js';

export async function reportOnce(input: ReportInput): Promise<ReportOutput> {
  const { reportResults } = proxyActivities<ReportingActivities>(reportActivityOptions());
  return reportResults(input);
}
