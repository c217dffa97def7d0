// Getting a host ready for a job: its directories, the task's code at the right commit (through a
// per-host git mirror of each task repo, so repeated jobs fetch deltas, not whole repos), the formula
// read and validated where the code is, and the environment checked.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { activityInfo, Context } from '@temporalio/activity';
import { execa } from 'execa';
import type { TaskSource } from '../common/job.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import type { Formula } from '../formula/model.js';
import { parseFormula } from '../formula/parse.js';
import { FailureType, stepFailure } from '../common/failures.js';
import { artifactsDir, mirrorRoot, workDir, type RunnerConfig } from './runner-config.js';

export interface PrepareInput {
  uuid: string;
  task: string;
  source: TaskSource;
  /** Name of the workdir and artifacts dir; default the uuid. A re-run (reset) of a job gets its own. */
  dirName?: string;
}

export interface Workspace {
  hostname: string;
  taskdir: string;
  workdir: string;
  artifactsdir: string;
  /** For git sources: the repository and the exact commit checked out. */
  repo?: string;
  commit?: string;
}

export interface LoadFormulaInput {
  taskdir: string;
  /** Relative to taskdir; default runtask.yml. */
  formula?: string;
}

export interface LoadedFormula {
  file: string;
  formula: Formula;
  warnings: string[];
}

/** One git operation per mirror at a time on this host: concurrent fetches would fight over its locks. */
const mirrorLocks = new Map<string, Promise<unknown>>();

function withMirrorLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = mirrorLocks.get(path) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  mirrorLocks.set(path, next);
  return next;
}

async function git(args: string[], cwd?: string): Promise<string> {
  Context.current().heartbeat({ git: args[0] });
  const result = await execa('git', args, { ...(cwd ? { cwd } : {}), reject: false, stdin: 'ignore', env: { GIT_TERMINAL_PROMPT: '0' } });
  if (result.exitCode !== 0) {
    throw stepFailure(FailureType.CheckoutFailed, `git ${args.join(' ')} failed (exit ${result.exitCode}): ${String(result.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return String(result.stdout).trim();
}

function mirrorPath(config: RunnerConfig, repo: string): string {
  const readable = repo.replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80);
  const digest = createHash('sha256').update(repo).digest('hex').slice(0, 12);
  return join(mirrorRoot(config), `${readable}-${digest}.git`);
}

async function checkout(config: RunnerConfig, repo: string, ref: string, taskdir: string): Promise<string> {
  const mirror = mirrorPath(config, repo);
  await withMirrorLock(mirror, async () => {
    if (existsSync(join(mirror, 'HEAD'))) {
      await git(['--git-dir', mirror, 'fetch', '--prune', '--tags', 'origin', '+refs/heads/*:refs/heads/*']);
    } else {
      await mkdir(mirrorRoot(config), { recursive: true });
      await rm(mirror, { recursive: true, force: true });
      await git(['clone', '--mirror', '--', repo, mirror]);
    }
  });
  await rm(taskdir, { recursive: true, force: true });
  await git(['clone', '--quiet', '--no-checkout', '--', mirror, taskdir]);
  let commit: string | undefined;
  for (const candidate of [`refs/remotes/origin/${ref}`, ref]) {
    const probe = await execa('git', ['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`], { cwd: taskdir, reject: false });
    if (probe.exitCode === 0) {
      commit = String(probe.stdout).trim();
      break;
    }
  }
  if (!commit) throw stepFailure(FailureType.CheckoutFailed, `ref '${ref}' not found in ${repo}`);
  await git(['checkout', '--quiet', '--detach', commit], taskdir);
  // The namespace whitelist judges a task by where it came from, not by our mirror's path.
  await git(['remote', 'set-url', 'origin', repo], taskdir);
  return commit;
}

export function createWorkspaceActivities(config: RunnerConfig, hostname: string = osHostname()) {
  return {
    /** Directories for the job and the task's code; idempotent for retries of the same run. */
    async prepareWorkspace(input: PrepareInput): Promise<Workspace> {
      const info = activityInfo();
      const owner = info.workflowExecution ? `${info.workflowExecution.workflowId}/${info.workflowExecution.runId}` : `activity ${info.activityId}`;
      const artifactsdir = artifactsDir(config, input.dirName ?? input.uuid);
      const workdir = workDir(config, input.dirName ?? input.uuid);
      const marker = join(artifactsdir, 'taskotron', 'job');
      if (existsSync(marker)) {
        const existing = (await readFile(marker, 'utf8')).trim();
        if (existing !== owner) {
          throw stepFailure(FailureType.DuplicateJob, `artifacts for uuid ${input.uuid} already belong to ${existing}; refusing to run ${owner} over them`);
        }
      }
      await mkdir(join(artifactsdir, 'taskotron'), { recursive: true });
      await writeFile(marker, `${owner}\n`);
      // A job's scratch space starts empty every time (the original wiped /var/tmp/taskotron before each job).
      await rm(workdir, { recursive: true, force: true });
      await mkdir(workdir, { recursive: true });
      if (input.source.kind === 'local') {
        const taskdir = resolve(input.source.path);
        if (!existsSync(taskdir)) throw stepFailure(FailureType.InvalidFormula, `task directory ${taskdir} does not exist on ${hostname}`);
        return { hostname, taskdir, workdir, artifactsdir };
      }
      const taskdir = join(workdir, 'task');
      const commit = await checkout(config, input.source.repo, input.source.ref, taskdir);
      return { hostname, taskdir, workdir, artifactsdir, repo: input.source.repo, commit };
    },

    /** Reads and validates the formula on the host; the parsed formula enters workflow history. */
    async loadFormula(input: LoadFormulaInput): Promise<LoadedFormula> {
      const relative = input.formula ?? 'runtask.yml';
      const file = isAbsolute(relative) ? relative : join(input.taskdir, relative);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw stepFailure(FailureType.InvalidFormula, `cannot read formula ${file}: ${(error as Error).message}`);
      }
      const parsed = parseFormula(text, file);
      if (!parsed.formula || parsed.errors.length > 0) {
        const lines = parsed.errors.map(formatDiagnostic);
        throw stepFailure(FailureType.InvalidFormula, `invalid formula ${file}:\n${lines.join('\n')}`, { errors: lines });
      }
      return { file, formula: parsed.formula, warnings: parsed.warnings.map(formatDiagnostic) };
    },

    /** Verifies environment.rpm (package names or file paths) is present; installs them only when allowed. */
    async checkEnvironment(input: { rpm: string[] }): Promise<{ present: string[]; installed: string[] }> {
      const missing: string[] = [];
      const present: string[] = [];
      for (const dependency of input.rpm) {
        if (await isInstalled(dependency)) present.push(dependency);
        else missing.push(dependency);
      }
      if (missing.length === 0) return { present, installed: [] };
      if (config.installDependencies && (await commandExists('dnf'))) {
        const result = await execa('dnf', ['install', '-y', '--', ...missing], { reject: false, stdin: 'ignore' });
        if (result.exitCode === 0) return { present, installed: missing };
        throw stepFailure(FailureType.MissingDependencies, `dnf could not install ${missing.join(', ')} (exit ${result.exitCode})`, {
          logTail: String(result.stderr).split('\n').slice(-40).join('\n'),
        });
      }
      throw stepFailure(
        FailureType.MissingDependencies,
        `${hostname} lacks the task's dependencies: ${missing.join(', ')}` +
          (config.installDependencies ? ' (installing needs dnf, which this host lacks)' : ' (installing them is off on this runner: TASKOTRON_INSTALL_DEPS=1 turns it on)'),
        { missing },
      );
    },
  };
}

async function commandExists(name: string): Promise<boolean> {
  const result = await execa('sh', ['-c', 'command -v "$1"', 'sh', name], { reject: false });
  return result.exitCode === 0;
}

async function isInstalled(dependency: string): Promise<boolean> {
  if (dependency.startsWith('/')) return existsSync(dependency);
  if (await commandExists('rpm')) {
    const rpm = await execa('rpm', ['-q', '--whatprovides', '--', dependency], { reject: false });
    if (rpm.exitCode === 0) return true;
  }
  if (await commandExists('dpkg-query')) {
    const dpkg = await execa('dpkg-query', ['-W', '-f=${Status}', '--', dependency], { reject: false });
    if (dpkg.exitCode === 0 && String(dpkg.stdout).includes('install ok installed')) return true;
  }
  return false;
}

export type WorkspaceActivities = ReturnType<typeof createWorkspaceActivities>;
