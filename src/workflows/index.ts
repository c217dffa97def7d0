// The workflow bundle's entry point: every workflow type a worker can run.
export { probeRunnerPool } from './probe.js';
export { runJob } from './job.js';
export { triggerJobs, debounceKojiTag } from './trigger.js';
