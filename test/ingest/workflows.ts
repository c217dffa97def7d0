// Test-only workflow bundle: the real trigger workflow, and a stand-in `runJob` that only records the
// input it was started with, so ingest tests check fan-out, IDs and dedup without running tasks.
import type { JobInput } from '../../src/common/job.js';

export { triggerJobs, debounceKojiTag } from '../../src/workflows/trigger.js';

export async function runJob(input: JobInput): Promise<JobInput> {
  return input;
}
