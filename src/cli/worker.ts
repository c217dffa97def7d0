// `taskotron worker`: its options. The worker itself (worker-run.ts: the Temporal SDK, the runner's
// activities) is loaded once they have been parsed, so `worker --help` and a usage error answer
// without it.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { LogLevel } from '@temporalio/worker';
import { addTemporalOptions, positiveInt } from './option-defs.js';

export interface WorkerOptions {
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
  ).action(async (options: WorkerOptions) => (await import('./worker-run.js')).runWorker(options));
}
