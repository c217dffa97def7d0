// `taskotron worker`'s run (its options: worker.ts): a runner host for any Temporal cluster.
import { installRuntime } from '../worker/logging.js';
import { registerRunnerMetrics } from '../worker/metrics.js';
import { enabled, parseListen, processRegistry, serveMetrics } from '../metrics/endpoint.js';
import { freePort, waitForFrontend } from '../devserver/server.js';
import { logger } from '../logging/log.js';
import { createRunnerWorker } from '../worker/runner-worker.js';
import { serverNotReady } from './setup.js';
import { runnerConfig } from '../activities/runner-config.js';
import { reportingConfig } from '../results/config.js';
import { configDurationSeconds } from '../config/schema.js';
import { connectionOptions, temporalSettings } from '../config/temporal.js';
import { configFromOptions } from './options.js';
import { overridesFrom, temporalOverrides } from './option-defs.js';
import type { WorkerOptions } from './worker.js';

export async function runWorker(options: WorkerOptions): Promise<void> {
  const config = configFromOptions(options, [
    ...temporalOverrides(options),
    ...overridesFrom([
      ['--arch', options.arch, 'runner.arch'],
      ['--hostname', options.hostname, 'runner.hostname'],
      ['--concurrency', options.concurrency, 'runner.concurrency'],
      ['--shutdown-grace', options.shutdownGrace === undefined ? undefined : `${options.shutdownGrace}s`, 'runner.shutdown_grace'],
      ['--root', options.root, 'runner.root'],
      ['--install-deps', options.installDeps || undefined, 'runner.install_deps'],
    ]),
  ]);
  // Before the Temporal runtime takes over SIGTERM: a stack stopped meanwhile simply ends this process.
  if (options.waitForTemporal) await waitForFrontend(connectionOptions(temporalSettings(config.temporal)), options.waitForTemporal * 1000);
  const metricsListen = enabled(options.metricsListen ?? (config.metrics.runner_listen || undefined));
  if (metricsListen) parseListen(metricsListen, 'metrics.runner_listen (TASKOTRON_METRICS_RUNNER_LISTEN, --metrics-listen)');
  // Temporal core's own metrics go to a private loopback port; our endpoint serves them with ours.
  const core = metricsListen ? `127.0.0.1:${await freePort()}` : undefined;
  installRuntime({ logLevel: options.logLevel, ...(core ? { prometheusBindAddress: core } : {}) });
  const hostname = config.runner.hostname;
  const registry = metricsListen ? processRegistry() : undefined;
  const metrics = registry ? registerRunnerMetrics(registry, { hostname, arch: config.runner.arch, concurrency: config.runner.concurrency }) : undefined;
  const worker = await createRunnerWorker({
    temporal: temporalSettings(config.temporal),
    arch: config.runner.arch,
    hostname,
    concurrency: config.runner.concurrency,
    ...(metrics ? { metrics } : {}),
    shutdownGraceMs: configDurationSeconds(config.runner.shutdown_grace)! * 1000,
    workflowFailoverMs: configDurationSeconds(config.runner.workflow_failover)! * 1000,
    runWorkflows: options.workflows,
    ...(options.workflowQueue ? { workflowQueue: options.workflowQueue } : {}),
    runner: runnerConfig(config),
    reporting: reportingConfig(config),
  });
  // Temporal's runtime already turns SIGINT/SIGTERM into a graceful shutdown of every worker.
  const log = logger('worker', { host: worker.hostname });
  log.info({ queues: worker.queues, root: worker.runner.root }, `taskotron worker: host ${worker.hostname} polling ${worker.queues.join(', ')}; jobs under ${worker.runner.root}`);
  const endpoint = registry && metricsListen ? await serveMetrics(registry, metricsListen, { ...(core ? { temporalCore: core } : {}) }) : undefined;
  if (endpoint) log.info({ metrics: endpoint.url }, `taskotron worker: metrics on ${endpoint.url}`);
  // Not a refusal: `taskotron setup` may still be on its way (a stack starting in any order), and
  // the worker serves jobs as soon as it is done. But an operator must see why jobs never end.
  const settings = temporalSettings(config.temporal);
  const problem = await serverNotReady(settings);
  if (problem) log.error({ address: settings.address, namespace: settings.namespace }, `taskotron worker: the Temporal server at ${settings.address} is not set up for taskotron: ${problem}; every job's workflow task will fail until \`taskotron setup --address ${settings.address} --namespace ${settings.namespace}\` has run`);
  await worker.run();
  await endpoint?.close();
  log.info(`taskotron worker: host ${worker.hostname} stopped`);
}
