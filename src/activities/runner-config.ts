// How a runner host lays out its disk and what it may do to itself: the `runner` section of
// taskotron.yaml, in the shape the activities use.
import { join } from 'node:path';
import { configFile, readConfig, type ResolvedConfig } from '../config/load.js';
import { configDurationSeconds } from '../config/schema.js';

export interface RunnerConfig {
  /** Holds work/<uuid>, artifacts/<uuid> and mirror/ (git mirrors of task repos). */
  root: string;
  /** Install missing environment.rpm packages with dnf instead of failing the job. */
  installDependencies: boolean;
  /** Interpreter for the `python` directive. */
  python: string;
  /** Between SIGTERM and SIGKILL when a step is cancelled. */
  killGraceMs: number;
}

export function runnerConfig(config: ResolvedConfig): RunnerConfig {
  const runner = config.runner;
  return {
    root: runner.root,
    installDependencies: runner.install_deps,
    python: runner.python,
    killGraceMs: configDurationSeconds(runner.kill_grace)! * 1000,
  };
}

/** The runner settings of the configuration ($TASKOTRON_CONFIG or the usual places, then the environment). */
export function defaultRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  return runnerConfig(readConfig({ file: configFile(undefined, env), env }));
}

export function workDir(config: RunnerConfig, uuid: string): string {
  return join(config.root, 'work', uuid);
}

export function artifactsDir(config: RunnerConfig, uuid: string): string {
  return join(config.root, 'artifacts', uuid);
}

export function mirrorRoot(config: RunnerConfig): string {
  return join(config.root, 'mirror');
}
