// How a runner host lays out its disk and what it may do to itself.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

function parseBoolean(value: string, key: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${key}: expected true or false, got '${value}'`);
}

export function sandboxSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxSettings {
  const backend = (env.TASKOTRON_SANDBOX || 'auto') as SandboxBackendSetting;
  if (!SANDBOX_BACKENDS.includes(backend)) {
    throw new Error(`TASKOTRON_SANDBOX: expected one of ${SANDBOX_BACKENDS.join(', ')}, got '${env.TASKOTRON_SANDBOX}'`);
  }
  const network = env.TASKOTRON_SANDBOX_NETWORK ? parseBoolean(env.TASKOTRON_SANDBOX_NETWORK, 'TASKOTRON_SANDBOX_NETWORK') : true;
  // The files behind the runner's own credentials, named by the settings the runner reads.
  const hideFiles = ['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TASKOTRON_RESULTSDB_PASSWORD_FILE']
    .map((name) => env[name])
    .filter((path): path is string => Boolean(path));
  return { backend, network, env: [], hideFiles };
}
// ---- end of runner.sandbox ---------------------------------------------------------------------

export function defaultRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  return {
    root: env.TASKOTRON_RUNNER_ROOT || join(tmpdir(), 'taskotron'),
    installDependencies: env.TASKOTRON_INSTALL_DEPS === '1',
    python: env.TASKOTRON_PYTHON || 'python3',
    killGraceMs: 3_000,
    sandbox: sandboxSettingsFromEnv(env),
  };
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
