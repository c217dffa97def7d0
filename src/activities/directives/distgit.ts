// `distgit`: fetch files of a package's dist-git repository through Pagure's raw-file URLs,
// `<baseurl>/<namespace>/<package>/raw/<gitref>/f/<path>` (reference/fedora-services.md §3).
import { isAbsolute, join, resolve } from 'node:path';
import { asList } from '../fedora/arches.js';
import { downloadFile } from '../fedora/download.js';
import { NotFoundError } from '../fedora/http.js';
import { fedoraTagOf, parseNvr } from '../fedora/nvr.js';
import { ParameterError, boolParam, runFedoraDirective, stringParam } from '../fedora/runtime.js';
import { loadRepoInfo, rawhideSection } from '../fedora/yumrepoinfo-conf.js';
import type { RunnerConfig } from '../runner-config.js';
import type { ActionOutput, ActionRequest } from './context.js';
import { targetDir } from './koji.js';

export interface DistgitParams {
  package?: string;
  nvr?: string;
  gitref?: string;
  namespace?: string;
  path: string[];
  localpath?: string[];
  target_dir?: string;
  baseurl?: string;
  ignore_missing?: boolean;
}

/** The branch of an NVR's release: `.fc29` → `f29`, and the rawhide release's tag → `master`. */
async function gitrefOf(release: string, config: RunnerConfig): Promise<string | undefined> {
  const tag = fedoraTagOf(release);
  if (!tag) return undefined;
  try {
    const info = await loadRepoInfo(config.services.yumrepoinfo);
    const rawhide = rawhideSection(info);
    if (rawhide && info.sections.get(rawhide)?.tag === tag) return 'master';
  } catch {
    // Without a yumrepoinfo.conf no release is known to be rawhide; the branch is then the tag.
  }
  return tag;
}

export async function runDistgitAction(request: ActionRequest<DistgitParams>, config: RunnerConfig): Promise<ActionOutput> {
  return runFedoraDirective('distgit', request, config, async (run) => {
    const params = (request.params ?? {}) as unknown as Record<string, unknown>;
    let pkg = stringParam(params, 'package', 'distgit', false);
    let gitref = stringParam(params, 'gitref', 'distgit', false);
    let namespace = stringParam(params, 'namespace', 'distgit', false);
    const nvr = stringParam(params, 'nvr', 'distgit', false);
    if (!pkg && !nvr) throw new ParameterError(`one of 'package' or 'nvr' is required`);
    if (nvr && !pkg) {
      const parsed = parseNvr(nvr);
      if (!parsed) throw new ParameterError(`nvr '${nvr}' is not an N(E)VR`);
      pkg = parsed.name;
      gitref ??= await gitrefOf(parsed.release, config);
      namespace ??= 'rpms';
    }
    gitref ??= 'master';
    namespace ??= 'rpms';
    const paths = asList(params.path);
    if (paths.length === 0) throw new ParameterError(`'path' must list at least one file`);
    const localpaths = params.localpath === undefined ? paths : asList(params.localpath);
    if (localpaths.length !== paths.length) throw new ParameterError(`'localpath' must have as many entries as 'path' (${localpaths.length} vs ${paths.length})`);
    const ignoreMissing = boolParam(params, 'ignore_missing');
    // TASKOTRON_DISTGIT_URL wins even over a formula's own baseurl: it is how a runner is pointed at a mirror or a stand-in.
    const baseurl = (config.services.distgitUrlForced ? config.services.distgitUrl : (stringParam(params, 'baseurl', 'distgit', false) ?? config.services.distgitUrl)).replace(/\/+$/, '');
    const dir = targetDir(stringParam(params, 'target_dir', 'distgit', false), request.job);
    const downloaded: string[] = [];
    run.progress.filesTotal = paths.length;
    for (const [i, path] of paths.entries()) {
      const url = `${baseurl}/${encodeURIComponent(namespace)}/${encodeURIComponent(pkg!)}/raw/${encodeURIComponent(gitref)}/f/${path.split('/').map(encodeURIComponent).join('/')}`;
      const local = localpaths[i]!;
      const dest = isAbsolute(local) ? local : resolve(join(dir, local));
      try {
        await downloadFile(url, dest, {
          what: `dist-git file ${namespace}/${pkg}@${gitref}:${path}`,
          progress: run.progress,
          ...(run.signal ? { signal: run.signal } : {}),
          ...(run.retry ? { retry: run.retry } : {}),
          onRetry: (e, n, ms) => run.log(`retry ${n} in ${ms} ms: ${e.message}`),
        });
      } catch (error) {
        if (error instanceof NotFoundError && ignoreMissing) {
          run.log(`missing, ignored: ${url}`);
          continue;
        }
        throw error;
      }
      run.progress.filesDone += 1;
      run.log(`GET ${url} -> ${dest}`);
      downloaded.push(dest);
    }
    return { downloaded_files: downloaded };
  });
}
