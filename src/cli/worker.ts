import { Command, InvalidArgumentError, Option } from 'commander';
import type { LogLevel } from '@temporalio/worker';
import { installRuntimeLogger } from '../worker/logging.js';
import { fedoraArch } from '../common/arch.js';
import { createRunnerWorker } from '../worker/runner-worker.js';
import { addTemporalOptions, positiveInt, temporalSettingsFromOptions } from './options.js';

interface WorkerOptions {
  address?: string;
  namespace?: string;
  arch: string;
  hostname?: string;
  concurrency: number;
  shutdownGrace: number;
  workflows: boolean;
  logLevel: LogLevel;
  root?: string;
  installDeps?: boolean;
  workflowQueue?: string;
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
      .description("run a runner host: poll the arch's pool queue and this host's own queue")
      .option('--arch <arch>', 'architecture this host runs jobs for', fedoraArch())
      .option('--hostname <name>', 'name of this runner host (default: the machine hostname)')
      .option('--concurrency <n>', 'jobs this host runs at once (its slots; more wait in the arch queue)', parsePositive, 2)
      .option('--shutdown-grace <seconds>', 'on SIGINT/SIGTERM, how long running steps may finish before they are cancelled', parsePositive, 30)
      .option('--no-workflows', 'only execute steps; do not run workflow code on this host')
      .option('--root <dir>', 'where job workdirs, artifacts and task repo mirrors live (env TASKOTRON_RUNNER_ROOT)')
      .addOption(new Option('--workflow-queue <name>', 'workflow task queue (tests isolate themselves with it)').hideHelp())
      .option('--install-deps', "install a task's missing environment.rpm packages with dnf (off by default; env TASKOTRON_INSTALL_DEPS=1)")
      .addOption(new Option('--log-level <level>', 'Temporal SDK log level').choices(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN')),
  ).action(async (options: WorkerOptions) => {
    installRuntimeLogger(options.logLevel);
    const worker = await createRunnerWorker({
      temporal: temporalSettingsFromOptions(options),
      arch: options.arch,
      ...(options.hostname ? { hostname: options.hostname } : {}),
      concurrency: options.concurrency,
      shutdownGraceMs: options.shutdownGrace * 1000,
      runWorkflows: options.workflows,
      ...(options.workflowQueue ? { workflowQueue: options.workflowQueue } : {}),
      runner: {
        ...(options.root ? { root: options.root } : {}),
        ...(options.installDeps ? { installDependencies: true } : {}),
      },
    });
    // Temporal's runtime already turns SIGINT/SIGTERM into a graceful shutdown of every worker.
    console.error(`taskotron worker: host ${worker.hostname} polling ${worker.queues.join(', ')}; jobs under ${worker.runner.root}`);
    await worker.run();
    console.error(`taskotron worker: host ${worker.hostname} stopped`);
  });
}
