import { Command, InvalidArgumentError, Option } from 'commander';
import type { LogLevel } from '@temporalio/worker';
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
import { addTemporalOptions, configFromOptions, overridesFrom, positiveInt, temporalOverrides } from './options.js';

interface WorkerOptions {
  config?: string;
  address?: string;
  namespace?: string;
  arch?: string;
  hostname?: string;
  concurrency?: number;
  shutdownGrace?: number;
  workflows: boolean;
  logLevel: LogLevel;
  root?: string;
  installDeps?: boolean;
  workflowQueue?: string;
  metricsListen?: string;
  waitForTemporal?: number;
}

function parsePositive(value: string): number {
  try {
    return positiveInt(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function registerWorker(program: Command): void {
  addTemporalOptions(
    program
      .command('worker')
      .option('--arch <arch>', "architecture this host runs jobs for (runner.arch; default: the machine's)")
      .option('--hostname <name>', 'name of this runner host (runner.hostname; default: the machine hostname)')
      .option('--concurrency <n>', 'jobs this host runs at once: its slots, more wait in the arch queue (runner.concurrency; default 2)', parsePositive)
      .option('--shutdown-grace <seconds>', 'on SIGINT/SIGTERM, how long running steps may finish before they are cancelled (runner.shutdown_grace; default 30)', parsePositive)
      .option('--no-workflows', 'only execute steps; do not run workflow code on this host')
      .option('--root <dir>', 'where job workdirs, artifacts and task repo mirrors live (runner.root; env TASKOTRON_RUNNER_ROOT)')
      .addOption(new Option('--workflow-queue <name>', 'workflow task queue (tests isolate themselves with it)').hideHelp())
      // `taskotron start` starts its worker beside the server rather than after it.
      .addOption(new Option('--wait-for-temporal <seconds>', 'wait this long for the Temporal server to answer before connecting').argParser(parsePositive).hideHelp())
      .option('--install-deps', "install a task's missing environment.rpm packages with dnf (runner.install_deps; env TASKOTRON_INSTALL_DEPS=1)")
      .option('--metrics-listen <host:port>', "serve Prometheus metrics on http://<host:port>/metrics, 'off' for none (metrics.runner_listen; env TASKOTRON_METRICS_RUNNER_LISTEN; default off)")
      .addOption(new Option('--log-level <level>', 'Temporal SDK log level').choices(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN')),
  ).action(async (options: WorkerOptions) => {
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
  });
}

