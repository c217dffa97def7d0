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
  /** runner.keep_workdirs: leave a job's workdir in place when it ends (debugging; tests look inside). */
  keepWorkdirs?: boolean;
  /** How task commands are isolated (runner.sandbox in taskotron.yaml). */
  sandbox: SandboxSettings;
  /** artifacts.base_url: where the artifacts directory is on the web; logs and results link there. */
  artifactsBaseUrl?: string;
  /** Where Koji, Bodhi and dist-git are (issue 9). */
  services: FedoraServices;
  /** The per-host cache of downloaded RPMs, shared by every job on this host (issue 9). */
  downloadCache: DownloadCacheConfig;
  /** How often and how patiently Fedora services are retried (issue 9; default: 6 tries over ~8 s). */
  downloadRetry?: { attempts: number; initialDelayMs: number; maxDelayMs: number; stallTimeoutMs?: number };
}

// ---- issue 9: Fedora services and the download cache -------------------------------------------
// taskotron.yaml `runner:` keys, exactly as the settled interface names them (the config loader of
// issue 11 maps them onto these fields):
//   koji_url, pkg_url, bodhi_url, distgit_url, yumrepoinfo,
//   download_cache: { enabled, dir, max_size }
// Environment overrides, which always win (also for runtask):
//   TASKOTRON_KOJI_URL, TASKOTRON_PKG_URL, TASKOTRON_BODHI_URL, TASKOTRON_DISTGIT_URL,
//   TASKOTRON_YUMREPOINFO, TASKOTRON_DOWNLOAD_CACHE_ENABLED, TASKOTRON_DOWNLOAD_CACHE_DIR,
//   TASKOTRON_DOWNLOAD_CACHE_MAX_SIZE.
// Defaults are Fedora's public endpoints so a task author's laptop just works; tests never use them.

export interface FedoraServices {
  /** koji_url: the Koji hub's XML-RPC endpoint. */
  kojiUrl: string;
  /** pkg_url: where builds are served, `<pkg_url>/<name>/<version>/<release>/<arch>/<nvra>.rpm`. */
  pkgUrl: string;
  /** bodhi_url: Bodhi's REST root (`<bodhi_url>/updates/<alias>`). */
  bodhiUrl: string;
  /** distgit_url: the dist-git (Pagure) base URL, the `distgit` directive's default `baseurl`. */
  distgitUrl: string;
  /**
   * Set when TASKOTRON_DISTGIT_URL is: it then replaces even a `baseurl:` written in the formula
   * (the real formulas name https://src.fedoraproject.org), so a stand-in or a mirror always works.
   */
  distgitUrlForced: boolean;
  /** yumrepoinfo: path of the yumrepoinfo.conf the `yumrepoinfo` and `distgit` directives read. */
  yumrepoinfo: string;
}

export interface DownloadCacheConfig {
  /** download_cache.enabled (the original's `download_cache_enabled`). */
  enabled: boolean;
  /** download_cache.dir; default `<root>/cache/downloads`. */
  dir?: string;
  /** download_cache.max_size in bytes (the config accepts 500M, 10G, ...); least recently used go first. */
  maxSize: number;
}

export const FEDORA_SERVICES: Omit<FedoraServices, 'distgitUrlForced'> = {
  kojiUrl: 'https://koji.fedoraproject.org/kojihub',
  pkgUrl: 'https://kojipkgs.fedoraproject.org/packages',
  bodhiUrl: 'https://bodhi.fedoraproject.org',
  distgitUrl: 'https://src.fedoraproject.org',
  yumrepoinfo: '/etc/taskotron/yumrepoinfo.conf',
};

export const DEFAULT_DOWNLOAD_CACHE_MAX_SIZE = 20 * 2 ** 30;

/** `1048576`, `500M`, `10G`, `2GiB` → bytes; throws naming the key on anything else. */
export function parseSize(value: string | number, key = 'download_cache.max_size'): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(String(value));
  if (!match) throw new Error(`${key}: '${value}' is not a size (bytes, or a number with K, M, G or T)`);
  const power = ['', 'k', 'm', 'g', 't'].indexOf(match[2]!.toLowerCase());
  return Math.floor(Number(match[1]) * 1024 ** power);
}

function envFlag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}

export function fedoraServicesFromEnv(env: NodeJS.ProcessEnv = process.env): FedoraServices {
  return {
    kojiUrl: env.TASKOTRON_KOJI_URL || FEDORA_SERVICES.kojiUrl,
    pkgUrl: (env.TASKOTRON_PKG_URL || FEDORA_SERVICES.pkgUrl).replace(/\/+$/, ''),
    bodhiUrl: (env.TASKOTRON_BODHI_URL || FEDORA_SERVICES.bodhiUrl).replace(/\/+$/, ''),
    distgitUrl: (env.TASKOTRON_DISTGIT_URL || FEDORA_SERVICES.distgitUrl).replace(/\/+$/, ''),
    distgitUrlForced: Boolean(env.TASKOTRON_DISTGIT_URL),
    yumrepoinfo: env.TASKOTRON_YUMREPOINFO || FEDORA_SERVICES.yumrepoinfo,
  };
}

export function downloadCacheFromEnv(env: NodeJS.ProcessEnv = process.env): DownloadCacheConfig {
  return {
    enabled: envFlag(env.TASKOTRON_DOWNLOAD_CACHE_ENABLED, true),
    ...(env.TASKOTRON_DOWNLOAD_CACHE_DIR ? { dir: env.TASKOTRON_DOWNLOAD_CACHE_DIR } : {}),
    maxSize: env.TASKOTRON_DOWNLOAD_CACHE_MAX_SIZE ? parseSize(env.TASKOTRON_DOWNLOAD_CACHE_MAX_SIZE, 'TASKOTRON_DOWNLOAD_CACHE_MAX_SIZE') : DEFAULT_DOWNLOAD_CACHE_MAX_SIZE,
  };
}

export function downloadCacheDir(config: RunnerConfig): string {
  return config.downloadCache.dir ?? join(config.root, 'cache', 'downloads');
}
// ---- end of issue 9 block -------------------------------------------------------------------------


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

export function runnerConfig(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const runner = config.runner;
  const trim = (url: string) => url.replace(/\/+$/, '');
  return {
    root: runner.root,
    installDependencies: runner.install_deps,
    python: runner.python,
    killGraceMs: configDurationSeconds(runner.kill_grace)! * 1000,
    keepWorkdirs: runner.keep_workdirs,
    sandbox: sandboxSettings(config),
    services: {
      kojiUrl: runner.koji_url ?? FEDORA_SERVICES.kojiUrl,
      pkgUrl: trim(runner.pkg_url ?? FEDORA_SERVICES.pkgUrl),
      bodhiUrl: trim(runner.bodhi_url ?? FEDORA_SERVICES.bodhiUrl),
      distgitUrl: trim(runner.distgit_url ?? FEDORA_SERVICES.distgitUrl),
      // Only the environment override beats a formula's own `baseurl:` (see FedoraServices).
      distgitUrlForced: Boolean(env.TASKOTRON_DISTGIT_URL),
      yumrepoinfo: runner.yumrepoinfo ?? FEDORA_SERVICES.yumrepoinfo,
    },
    downloadCache: {
      enabled: runner.download_cache.enabled,
      ...(runner.download_cache.dir ? { dir: runner.download_cache.dir } : {}),
      maxSize: parseSize(runner.download_cache.max_size, 'runner.download_cache.max_size'),
    },
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
