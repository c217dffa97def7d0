// `runtask`: a task author runs their formula on their own machine through the very same job
// workflow production runs — on the configured Temporal server when one answers, otherwise on an
// ephemeral dev server started for this run — with a runner worker inside this process.
//
// This module is the command line: its options and the checks that need no server. The run itself
// (runtask-job.ts: the Temporal client, the worker, the dev server) is loaded only once they pass, so
// `runtask --help` and a usage error answer without loading the Temporal SDK (about 0.7 s of CPU).
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { fedoraArch } from '../common/arch.js';
import { EXIT_CODES } from '../common/job.js';
import { ITEM_TYPES } from '../formula/model.js';
import { defaultRunnerConfig, sandboxEnvEntryProblem, type RunnerConfig } from '../activities/runner-config.js';

export interface RuntaskOptions {
  type: string;
  item: string;
  arch: string;
  uuid?: string;
  jobid?: string;
  debug?: boolean;
  timeout?: string;
  root?: string;
  address?: string;
  namespace?: string;
  ephemeral?: boolean;
  waitForTemporal?: string;
  env?: string[];
}

/** How long a configured server that accepts connections may take to answer, by default. */
const DEFAULT_WAIT_FOR_TEMPORAL_S = 30;

export function addRuntaskOptions(command: Command): Command {
  return command
    .argument('<formula>', 'path to the task formula (runtask.yml)')
    .addOption(new Option('-t, --type <type>', 'item type').choices([...ITEM_TYPES]).makeOptionMandatory())
    .requiredOption('-i, --item <item>', 'item under test, e.g. foo-1.0-1.fc40')
    .option('-a, --arch <arch>', 'architecture', fedoraArch())
    .option('--uuid <uuid>', 'unique id of this run (artifacts dir name); default: UTC timestamp')
    .option('-j, --jobid <id>', 'job id used in log links; default: the workflow id')
    .option('--timeout <seconds>', 'wall-clock limit for the whole job (default 7200)')
    .option('--root <dir>', 'where workdir and artifacts go (env TASKOTRON_RUNNER_ROOT)')
    .option('--address <host:port>', 'Temporal server to use (env TEMPORAL_ADDRESS); nothing listening there → an ephemeral one')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--ephemeral', 'always run on a fresh ephemeral dev server, even when one is configured')
    .option('--wait-for-temporal <seconds>', `how long a server that accepts connections may take to answer (default ${DEFAULT_WAIT_FOR_TEMPORAL_S})`)
    .option(
      '--env <NAME[=VALUE]>',
      "pass a variable to the task's sandbox: NAME takes runtask's own value, NAME=VALUE sets it (repeatable)",
      (entry: string, previous: string[] = []) => [...previous, entry],
    )
    .option('-d, --debug', 'verbose: Temporal SDK logs and full logs of failed steps');
}

/** Runs one job and returns runtask's exit code. */
export async function runtask(formulaPath: string, options: RuntaskOptions): Promise<number> {
  const say = (line: string) => console.error(line);
  const formula = resolve(formulaPath);
  if (!existsSync(formula)) {
    say(`runtask: ${formula}: no such file`);
    return EXIT_CODES.usage;
  }
  // Checked here rather than by commander, whose errors exit 1: a usage error is exit 2, as in the original.
  const badSeconds = (value: string | undefined) => value !== undefined && !(Number.isInteger(Number(value)) && Number(value) > 0);
  for (const [option, value] of [['--timeout', options.timeout], ['--wait-for-temporal', options.waitForTemporal]] as const) {
    if (badSeconds(value)) {
      say(`runtask: ${option} must be a positive number of seconds, got '${value}'`);
      return EXIT_CODES.usage;
    }
  }
  const timeoutSeconds = options.timeout !== undefined ? Number(options.timeout) : undefined;
  const waitS = options.waitForTemporal !== undefined ? Number(options.waitForTemporal) : DEFAULT_WAIT_FOR_TEMPORAL_S;
  for (const entry of options.env ?? []) {
    const problem = sandboxEnvEntryProblem(entry);
    if (problem) {
      say(`runtask: --env ${problem}`);
      return EXIT_CODES.usage;
    }
  }
  let runnerDefaults: RunnerConfig;
  try {
    runnerDefaults = defaultRunnerConfig();
  } catch (error) {
    say(`runtask: ${(error as Error).message}`);
    return EXIT_CODES.usage;
  }
  const { runJob } = await import('./runtask-job.js');
  return runJob(formula, options, { timeoutSeconds, waitS, runnerDefaults, say });
}

export function registerRuntask(program: Command): void {
  addRuntaskOptions(program.command('runtask')).action(
    async (formula: string, options: RuntaskOptions) => {
      process.exitCode = await runtask(formula, options);
    },
  );
}
