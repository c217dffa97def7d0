// A Python virtualenv under .cache/<name> with pinned packages from PyPI, for the tests that run the
// real Fedora libraries (fedmsg, fedora-messaging). Several test files run at once and may all find it
// missing on a fresh clone: each builds into a private directory and renames it into place, so no one
// ever sees (or deletes) a half-built venv; the first rename wins and the others drop their copy.
// `npm test` starts building the venvs its files need at its own start (buildVenv) and does not wait
// for them: a file that needs one waits for that build, so on a fresh clone each is built once,
// while the first files run, rather than by two files at a time.
// A marker file names what was installed, so a changed pin reinstalls.
// The installer is uv (a pinned release from PyPI, installed once by pip into .cache): it fetches the
// packages in parallel and installs them in Rust, about 12 s of CPU for both venvs with its own
// install, where pip took 23 s, and ready in seconds where pip's one-at-a-time downloads took 20–50 s
// (docs/PERFORMANCE.md). pip builds
// the venv as before when uv cannot be installed or fails, e.g. on a machine whose pip is configured
// for a package index in a way uv does not read.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { isExecutable, moveIntoPlace } from '../../src/common/files.js';
import { projectRoot } from '../../src/devserver/project.js';
import { processAlive } from './processes.js';

const PIP_TIMEOUT_MS = 600_000;

interface Plan {
  venv: string;
  wanted: string;
  ready(): boolean;
  /** The commands that build it into `build` with uv, in order. */
  uvCommands(uv: string, build: string): Array<[file: string, args: string[]]>;
  /** The same with pip: when uv is not there or fails. */
  commands(build: string): Array<[file: string, args: string[]]>;
  /** Moves a finished build into place unless another process got there first. */
  place(build: string): void;
}

/** Whether the interpreter can install into another environment (`pip --python`, pip ≥ 22.3). */
let outerPip: boolean | undefined;
function python(): string {
  return process.env.PYTHON ?? 'python3';
}
function hasOuterPip(): boolean {
  if (outerPip === undefined) {
    try {
      const version = execFileSync(python(), ['-m', 'pip', '--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      const [major = 0, minor = 0] = (/^pip (\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
      outerPip = major > 22 || (major === 22 && minor >= 3);
    } catch {
      outerPip = false;
    }
  }
  return outerPip;
}

/** uv's release, pinned like the packages it installs. */
export const UV_VERSION = '0.13.9';

/** Where uv is installed: .cache/uv-<version>, with uv at bin/uv, put in place whole by a rename. */
function uvHome(): string {
  return join(projectRoot(), '.cache', `uv-${UV_VERSION}`);
}

/**
 * uv's environment: its package cache in the project's .cache (removed with the clone, like
 * everything else the tests install), the machine's CA store (pip is told of it by PIP_CERT; uv otherwise trusts
 * only its own bundled roots), never a Python of its own, and pip's index settings where set.
 */
export function uvEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    UV_CACHE_DIR: join(projectRoot(), '.cache', 'uv-cache'),
    UV_NATIVE_TLS: '1',
    UV_PYTHON_DOWNLOADS: 'never',
    UV_NO_PROGRESS: '1',
  };
  if (base.PIP_CERT && !env.SSL_CERT_FILE) env.SSL_CERT_FILE = base.PIP_CERT;
  if (base.PIP_INDEX_URL) env.UV_INDEX_URL = base.PIP_INDEX_URL;
  if (base.PIP_EXTRA_INDEX_URL) env.UV_EXTRA_INDEX_URL = base.PIP_EXTRA_INDEX_URL;
  if (base.PIP_FIND_LINKS) env.UV_FIND_LINKS = base.PIP_FIND_LINKS;
  return env;
}

/** One install per uv home and process, however many venvs ask for it at once. */
const installingUv = new Map<string, Promise<string | undefined>>();
/** uv's path, installed by pip on first use; undefined when that fails (pip then builds the venv). */
function uv(log: (line: string) => void, install: UvInstall = { home: uvHome() }): Promise<string | undefined> {
  let installing = installingUv.get(install.home);
  if (installing) return installing;
  installing = (async () => {
    const path = join(install.home, 'bin', 'uv');
    if (isExecutable(path)) return path;
    const build = `${install.home}.build-${process.pid}-${Date.now()}`;
    try {
      await promisify(execFile)(python(), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-compile', '--target', build, `uv==${UV_VERSION}`], { timeout: PIP_TIMEOUT_MS, env: install.env });
      if (!isExecutable(join(build, 'bin', 'uv'))) throw new Error(`pip installed uv==${UV_VERSION} without bin/uv`);
      moveIntoPlace(build, install.home, () => isExecutable(path));
      return path;
    } catch (error) {
      log(`installing uv failed, building with pip instead: ${(error as Error).message.split('\n')[0]}`);
      return undefined;
    } finally {
      rmSync(build, { recursive: true, force: true });
    }
  })();
  installingUv.set(install.home, installing);
  return installing;
}

function plan(name: string, requirements: readonly string[]): Plan {
  const wanted = requirements.join(' ');
  const venv = join(projectRoot(), '.cache', name);
  const ready = () => existsSync(join(venv, 'bin', 'python')) && existsSync(join(venv, 'installed.txt')) && readFileSync(join(venv, 'installed.txt'), 'utf8').trim() === wanted;
  const pipArgs = ['install', '--quiet', '--disable-pip-version-check', ...requirements];
  return {
    venv,
    wanted,
    ready,
    // Byte-compiled at install, as pip does: this machine sets PYTHONDONTWRITEBYTECODE=1, so a venv
    // without .pyc files has every process that imports fedora-messaging compile it again (+0.6 s).
    uvCommands: (uv, build) => [
      [uv, ['venv', '--quiet', '--python', python(), build]],
      [uv, ['pip', 'install', '--quiet', '--compile-bytecode', '--python', join(build, 'bin', 'python'), ...requirements]],
    ],
    // With a pip outside the venv that can install into it, the venv gets no pip of its own: seeding
    // one (ensurepip) is a third of the build's CPU, and the tests only import the installed packages.
    commands: (build) =>
      hasOuterPip()
        ? [
            [python(), ['-m', 'venv', '--without-pip', build]],
            [python(), ['-m', 'pip', '--python', join(build, 'bin', 'python'), ...pipArgs]],
          ]
        : [
            [python(), ['-m', 'venv', build]],
            [join(build, 'bin', 'python'), ['-m', 'pip', ...pipArgs]],
          ],
    place: (build) => {
      writeFileSync(join(build, 'installed.txt'), `${wanted}\n`);
      // An older pin (or a broken copy) goes; one another process just put in place stays. A venv
      // keeps working when its directory is renamed: its prefix is where pyvenv.cfg is.
      moveIntoPlace(build, venv, ready);
    },
  };
}

const buildPath = (venv: string) => `${venv}.build-${process.pid}-${Date.now()}`;
/** Present while `npm test`'s harness builds the venv for the run's files; holds the harness's pid. */
const markerPath = (venv: string) => `${venv}.building`;

/** Whether the harness is building this venv right now (its marker names a live process). */
function harnessBuilding(venv: string): boolean {
  try {
    return processAlive(Number(readFileSync(markerPath(venv), 'utf8')));
  } catch {
    return false;
  }
}

/**
 * The venv's python, built first if it is missing or has other pins. Under `npm test` the harness
 * builds it while the first files run: this waits for that build (bounded by pip's own timeout)
 * rather than starting a second one, and builds it itself only if the harness's build failed.
 */
export async function ensureVenv(name: string, requirements: readonly string[], log: (line: string) => void = () => {}, options: BuildOptions = {}): Promise<string> {
  const venv = plan(name, requirements);
  const deadline = performance.now() + PIP_TIMEOUT_MS;
  if (!venv.ready() && harnessBuilding(venv.venv)) log(`waiting for npm test's build of ${venv.venv}`);
  while (!venv.ready() && harnessBuilding(venv.venv) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  if (!venv.ready()) {
    log(`installing ${venv.wanted} into ${venv.venv}`);
    await build(venv, log, options);
  }
  return join(venv.venv, 'bin', 'python');
}

/** Where the pinned uv is installed, and pip's environment for installing it. */
export interface UvInstall {
  home: string;
  env?: NodeJS.ProcessEnv;
}

export interface BuildOptions {
  /** A uv binary to build with instead of the pinned release (test/support/python-venv.test.ts gives one that fails). */
  uv?: string;
  /** Install the pinned uv here instead of .cache/uv-<version> (the same test makes that install fail). */
  uvInstall?: UvInstall;
}

async function build(venv: Plan, log: (line: string) => void, options: BuildOptions = {}): Promise<void> {
  const path = buildPath(venv.venv);
  const run = async (commands: Array<[file: string, args: string[]]>, env?: NodeJS.ProcessEnv) => {
    for (const [file, args] of commands) await promisify(execFile)(file, args, { timeout: PIP_TIMEOUT_MS, env });
  };
  try {
    const installer = options.uv ?? (await uv(log, options.uvInstall));
    if (installer) {
      try {
        await run(venv.uvCommands(installer, path), uvEnv());
        venv.place(path);
        return;
      } catch (error) {
        log(`uv could not build ${venv.venv}, building with pip instead: ${(error as Error).message.split('\n')[0]}`);
        rmSync(path, { recursive: true, force: true });
      }
    }
    await run(venv.commands(path));
    venv.place(path);
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/** The harness's build, announced to the files by a marker so they wait for it instead of building too. */
export async function buildVenv(name: string, requirements: readonly string[], log: (line: string) => void = () => {}): Promise<string> {
  const venv = plan(name, requirements);
  if (!venv.ready()) {
    log(`installing ${venv.wanted} into ${venv.venv}`);
    mkdirSync(dirname(venv.venv), { recursive: true });
    writeFileSync(markerPath(venv.venv), String(process.pid));
    try {
      await build(venv, log);
    } finally {
      rmSync(markerPath(venv.venv), { force: true });
    }
  }
  return join(venv.venv, 'bin', 'python');
}
