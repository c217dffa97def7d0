// `yumrepoinfo`: the repository URLs of a Koji tag for some arches, parents included
// (reference/taskotron.md §1.5), from the runner's yumrepoinfo.conf.
import { loadRepoInfo, repoValue, sectionForTag } from '../fedora/yumrepoinfo-conf.js';
import { asList } from '../fedora/arches.js';
import { ParameterError, runFedoraDirective, stringParam } from '../fedora/runtime.js';
import type { RunnerConfig } from '../runner-config.js';
import type { ActionOutput, ActionRequest } from './context.js';

const META_ARCHES = ['all', 'src', 'noarch'];

export async function runYumrepoinfoAction(request: ActionRequest<{ koji_tag: string; arch: string | string[] }>, config: RunnerConfig): Promise<ActionOutput> {
  return runFedoraDirective('yumrepoinfo', request, config, async (run) => {
    const params = (request.params ?? {}) as unknown as Record<string, unknown>;
    const tag = stringParam(params, 'koji_tag', 'yumrepoinfo')!.replace(/-pending$/, '');
    const arches = asList(params.arch).filter((a) => !META_ARCHES.includes(a));
    if (arches.length === 0) throw new ParameterError(`'arch' must name at least one real arch (all, src and noarch do not count), got ${JSON.stringify(params.arch ?? null)}`);
    let info;
    try {
      info = await loadRepoInfo(config.services.yumrepoinfo);
    } catch (error) {
      throw new ParameterError(`cannot read the runner's yumrepoinfo.conf (${config.services.yumrepoinfo}; TASKOTRON_YUMREPOINFO sets it): ${(error as Error).message}`);
    }
    const first = sectionForTag(info, tag);
    if (!first) throw new ParameterError(`no repository for tag '${tag}' in ${info.path}`);
    const output: Record<string, Record<string, string>> = {};
    const seen = new Set<string>();
    for (let section: string | undefined = first; section; ) {
      if (seen.has(section)) throw new ParameterError(`${info.path}: [${section}] is its own ancestor`);
      seen.add(section);
      const name = section;
      try {
        output[name] = Object.fromEntries(arches.map((arch) => [arch, repoValue(info, name, 'url', arch)]));
      } catch (error) {
        throw new ParameterError((error as Error).message);
      }
      run.log(`${section}: ${JSON.stringify(output[section])}`);
      const parent: string = info.sections.get(section)?.parent ?? '';
      section = parent ? (sectionForTag(info, parent) ?? (() => { throw new ParameterError(`${info.path}: [${section}] names parent '${parent}', which has no section`); })()) : undefined;
    }
    return output;
  });
}
