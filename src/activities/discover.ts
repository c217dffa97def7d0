// The trigger workflow's `discover` step (reference §2.4): find the task formulas a repository holds
// (package-owned dist-git tests, task-dockerbuild), at the branch asked for or its fallback. Runs on
// the ingest host, which keeps a bare cache of each repository (trigger.cfg `git_cache_dir`). Only the
// tree listing is needed, so a depth-1 fetch of one commit is all we download.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { runSupervised } from './supervise.js';

export interface DiscoverRequest {
  repo: string;
  branch?: string;
  fallbackBranch?: string;
  recursive: boolean;
}

export interface DiscoverResult {
  repo: string;
  /** The branch that existed (the requested one, else the fallback); undefined when neither did. */
  branch?: string;
  commit?: string;
  /** Formula paths relative to the repository root, sorted. */
  formulas: string[];
  /** Why nothing was found, when nothing was. */
  note?: string;
}

export const FORMULA_NAMES = ['runtask.yml', 'runtask.yaml'];

const MISSING_REPO = /not found|does not appear to be a git repository|does not exist|repository .* not exist|returned error: 404/i;

/** Through the one supervised spawn: heartbeats while a slow remote answers, dies on cancellation. */
async function git(args: string[], cwd?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await runSupervised({ argv: ['git', ...args], cwd: cwd ?? '/', env: { GIT_TERMINAL_PROMPT: '0' }, progress: { git: args[0] } });
  return { exitCode: result.exitCode, stdout: result.stdout.replace(/\n$/, ''), stderr: result.stderrTail };
}

function cachePath(cacheDir: string, repo: string): string {
  const readable = repo.replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(-60);
  return join(cacheDir, `${readable}-${createHash('sha256').update(repo).digest('hex').slice(0, 12)}.git`);
}

export function createDiscoverActivities(options: { gitCacheDir: string }) {
  return {
    async discoverTasks(request: DiscoverRequest): Promise<DiscoverResult> {
      Context.current().heartbeat('ls-remote');
      const heads = await git(['ls-remote', '--heads', '--', request.repo]);
      if (heads.exitCode !== 0) {
        const stderr = String(heads.stderr).trim();
        // Most packages have no tests repository: that is an answer, not an outage.
        if (MISSING_REPO.test(stderr)) return { repo: request.repo, formulas: [], note: `no such repository: ${stderr.split('\n').at(-1)}` };
        throw ApplicationFailure.retryable(`git ls-remote ${request.repo} failed: ${stderr.split('\n').slice(-2).join(' | ')}`, 'DiscoverFailed');
      }
      const branches = new Map<string, string>();
      for (const line of String(heads.stdout).split('\n')) {
        const [sha, ref] = line.split('\t');
        if (sha && ref?.startsWith('refs/heads/')) branches.set(ref.slice('refs/heads/'.length), sha);
      }
      const wanted = [request.branch, request.fallbackBranch].filter((b): b is string => Boolean(b));
      if (wanted.length === 0) wanted.push(...['master', 'main'].filter((b) => branches.has(b)));
      const branch = wanted.find((b) => branches.has(b));
      if (!branch) return { repo: request.repo, formulas: [], note: `none of the branches ${wanted.join(', ') || '(default)'} exists` };
      const commit = branches.get(branch)!;

      const cache = cachePath(options.gitCacheDir, request.repo);
      if (!existsSync(join(cache, 'HEAD'))) {
        await mkdir(cache, { recursive: true });
        await git(['init', '--quiet', '--bare', cache]);
      }
      Context.current().heartbeat('fetch');
      const fetched = await git(['--git-dir', cache, 'fetch', '--quiet', '--depth', '1', '--', request.repo, `refs/heads/${branch}`]);
      if (fetched.exitCode !== 0) {
        throw ApplicationFailure.retryable(`git fetch ${request.repo} ${branch} failed: ${String(fetched.stderr).trim().split('\n').slice(-2).join(' | ')}`, 'DiscoverFailed');
      }
      const tree = await git(['--git-dir', cache, 'ls-tree', '-r', '--name-only', 'FETCH_HEAD']);
      const fetchedCommit = (await git(['--git-dir', cache, 'rev-parse', 'FETCH_HEAD'])).stdout;
      const formulas = String(tree.stdout)
        .split('\n')
        .filter((path) => FORMULA_NAMES.includes(path.split('/').pop() ?? '') && (request.recursive || !path.includes('/')))
        .sort();
      return {
        repo: request.repo,
        branch,
        commit: String(fetchedCommit).trim() || commit,
        formulas,
        ...(formulas.length === 0 ? { note: `no ${FORMULA_NAMES[0]} on ${branch}${request.recursive ? ' (searched recursively)' : ''}` } : {}),
      };
    },
  };
}

export type IngestActivities = ReturnType<typeof createDiscoverActivities>;
