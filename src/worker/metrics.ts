// What a runner host exports to Prometheus: every step it runs, timed by an activity interceptor on
// the host's own queue (formula actions by directive, infrastructure steps by name), and how many of
// its slots are busy. Jobs by task and outcome are counted by the job workflow itself through the
// Temporal SDK's workflow metric meter (replay-safe), so they appear among the SDK runtime's metrics
// on the same endpoint (src/metrics/endpoint.ts folds them in).
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Gauge, Histogram, type Registry } from 'prom-client';

/** Name of the job counter the workflow emits (see src/workflows/job.ts). */
export const JOBS_METRIC = 'taskotron_runner_jobs';

export interface RunnerMetrics {
  /** For the host queue's worker: times each step and counts busy slots. */
  interceptor: ActivityInterceptorsFactory;
}

const DURATION_BUCKETS = [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 7200];

export function registerRunnerMetrics(registry: Registry, host: { hostname: string; arch: string; concurrency: number }): RunnerMetrics {
  const actions = new Histogram({
    name: 'taskotron_runner_action_duration_seconds',
    help: 'Formula actions run on this host, by directive and outcome (passed, failed, cancelled)',
    labelNames: ['directive', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const steps = new Histogram({
    name: 'taskotron_runner_step_duration_seconds',
    help: 'Infrastructure steps run on this host (prepareWorkspace, loadFormula, …), by step and outcome',
    labelNames: ['step', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const inUse = new Gauge({ name: 'taskotron_runner_slots_in_use', help: 'Steps this host is running now', registers: [registry] });
  new Gauge({
    name: 'taskotron_runner_slots',
    help: 'Steps this host runs at once (its concurrency), with its name and arch',
    labelNames: ['host', 'arch'],
    registers: [registry],
  }).set({ host: host.hostname, arch: host.arch }, host.concurrency);
  inUse.set(0);

  return {
    interceptor: (ctx) => ({
      inbound: {
        async execute(input, next) {
          const { activityId, activityType } = ctx.info;
          // A formula action's activity id is `<n>-<directive>` (src/workflows/job.ts).
          const action = /^\d+-/.test(activityId);
          const stop = action ? actions.startTimer({ directive: activityType }) : steps.startTimer({ step: activityType });
          inUse.inc();
          try {
            const result = await next(input);
            stop({ outcome: 'passed' });
            return result;
          } catch (error) {
            stop({ outcome: error instanceof CancelledFailure || ctx.cancellationSignal.aborted ? 'cancelled' : 'failed' });
            throw error;
          } finally {
            inUse.dec();
          }
        },
      },
    }),
  };
}
