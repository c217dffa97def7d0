// How a runner host lays out its disk and what it may do to itself: the `runner` section of
// taskotron.yaml, in the shape the activities use.
import { join } from 'node:path';
import { configFile, readConfig, type ResolvedConfig } from '../config/load.js';
import { configDurationSeconds } from '../config/schema.js';

export interface RunnerConfig {
  /** Holds work/<uuid>, artifacts/<uuid>, sandbox/<uuid> and mirror/ (git mirrors of task repos). */
  root: string;
  /** Install missing environment.rpm packages with dnf instead of failing the job. */
  installDependencies: boolean;
  /** Interpreter for the `python` directive. */
  python: string;
  /** Between SIGTERM and SIGKILL when a step is cancelled. */
  killGraceMs: number;
  /** How task commands are isolated (runner.sandbox in taskotron.yaml). */
  sandbox: SandboxSettings;
  /** artifacts.base_url: where the artifacts directory is on the web; logs and results link there. */
  artifactsBaseUrl?: string;
}

// ---- runner.sandbox (issue 10) -----------------------------------------------------------------
// taskotron.yaml:
//   runner:
//     sandbox: { backend: auto|bwrap|none, network: true, env: [NAME or NAME=VALUE] }
// Environment: TASKOTRON_SANDBOX (backend), TASKOTRON_SANDBOX_NETWORK (0/false turns networking off).
// `runtask --env NAME[=VALUE]` appends to `env`.

export const SANDBOX_BACKENDS = ['auto', 'bwrap', 'none'] as const;
export type SandboxBackendSetting = (typeof SANDBOX_BACKENDS)[number];

export interface SandboxSettings {
  /** auto: bubblewrap when it works on this host, otherwise none (with a warning in the job). */
  backend: SandboxBackendSetting;
  /** Whether task commands reach the network (tasks download builds: on by default). */
  network: boolean;
  /** Extra environment for task commands: NAME (the runner's value, when set) or NAME=VALUE. */
  env: string[];
  /**
   * Files the task must never read (the runner's TLS keys, password files): replaced by an empty
   * file inside the sandbox. Not a taskotron.yaml key — the worker fills it from its own settings.
   */
  hideFiles?: string[];
}

/** Variables that carry the runner's credentials: never passed to a task, whatever the config says. */
export const CREDENTIAL_VARIABLES = /^(TEMPORAL_|TASKOTRON_RESULTSDB_)/;

/** Checks one `env` entry (NAME or NAME=VALUE); returns the problem, or undefined when it is fine. */
export function sandboxEnvEntryProblem(entry: string): string | undefined {
  const name = entry.split('=', 1)[0]!;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `'${entry}' is not NAME or NAME=VALUE`;
  if (CREDENTIAL_VARIABLES.test(name)) return `${name} carries the runner's credentials and is never passed to tasks`;
  return undefined;
}

/** runner.sandbox of the configuration, plus the files behind the runner's own credentials. */
export function sandboxSettings(config: ResolvedConfig): SandboxSettings {
  const { backend, network, env } = config.runner.sandbox;
  const tls = config.temporal.tls;
  const hideFiles = [tls?.ca, tls?.cert, tls?.key, config.resultsdb.password_file].filter((path): path is string => Boolean(path));
  return { backend, network, env: [...env], hideFiles };
}
// ---- end of runner.sandbox ---------------------------------------------------------------------

export function runnerConfig(config: ResolvedConfig): RunnerConfig {
  const runner = config.runner;
  return {
    root: runner.root,
    installDependencies: runner.install_deps,
    python: runner.python,
    killGraceMs: configDurationSeconds(runner.kill_grace)! * 1000,
    sandbox: sandboxSettings(config),
    ...(config.artifacts.base_url ? { artifactsBaseUrl: config.artifacts.base_url } : {}),
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

/** The job's private /tmp and $HOME on the host: <root>/sandbox/<name of its workdir>/{tmp,home}. */
export function sandboxDirs(config: RunnerConfig, name: string): { tmp: string; home: string } {
  const base = join(config.root, 'sandbox', name);
  return { tmp: join(base, 'tmp'), home: join(base, 'home') };
}

export function mirrorRoot(config: RunnerConfig): string {
  return join(config.root, 'mirror');
}
