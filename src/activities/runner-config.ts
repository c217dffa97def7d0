// How a runner host lays out its disk and what it may do to itself.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunnerConfig {
  /** Holds work/<uuid>, artifacts/<uuid> and mirror/ (git mirrors of task repos). */
  root: string;
  /** Install missing environment.rpm packages with dnf instead of failing the job. */
  installDependencies: boolean;
  /** Interpreter for the `python` directive. */
  python: string;
  /** Between SIGTERM and SIGKILL when a step is cancelled. */
  killGraceMs: number;
  /** artifacts.base_url: where the artifacts directory is on the web; logs and results link there. */
  artifactsBaseUrl?: string;
}

export function defaultRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  return {
    root: env.TASKOTRON_RUNNER_ROOT || join(tmpdir(), 'taskotron'),
    installDependencies: env.TASKOTRON_INSTALL_DEPS === '1',
    python: env.TASKOTRON_PYTHON || 'python3',
    killGraceMs: 3_000,
    ...(env.TASKOTRON_ARTIFACTS_BASEURL ? { artifactsBaseUrl: env.TASKOTRON_ARTIFACTS_BASEURL } : {}),
  };
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
