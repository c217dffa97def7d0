// `bodhi`: download the RPMs of every build in a Bodhi update (reference/taskotron.md §1.5). The
// update comes from Bodhi's REST API (`GET <bodhi_url>/updates/<alias>`, fedora-services.md §2.1),
// its builds through the same Koji flow as the `koji` directive.
import { mkdir } from 'node:fs/promises';
import { asList, selectArches } from '../fedora/arches.js';
import { NotFoundError, getJson } from '../fedora/http.js';
import { ParameterError, boolParam, runFedoraDirective, stringParam } from '../fedora/runtime.js';
import type { RunnerConfig } from '../runner-config.js';
import type { ActionOutput, ActionRequest } from './context.js';
import { KojiDownloader, targetDir } from './koji.js';

export interface BodhiParams {
  action: 'download';
  update_id: string;
  arch: string | string[];
  src?: boolean;
  target_dir?: string;
}

interface UpdateBody {
  update?: { alias?: string; builds?: { nvr?: string }[] };
}

export async function runBodhiAction(request: ActionRequest<BodhiParams>, config: RunnerConfig): Promise<ActionOutput> {
  return runFedoraDirective('bodhi', request, config, async (run) => {
    const params = (request.params ?? {}) as unknown as Record<string, unknown>;
    const action = stringParam(params, 'action', 'bodhi')!;
    if (action !== 'download') throw new ParameterError(`'action' must be download (the only bodhi action), got '${action}'`);
    const id = stringParam(params, 'update_id', 'bodhi')!;
    if (!('arch' in params)) throw new ParameterError(`'arch' is required (a string or a list; 'all' for every arch)`);
    const src = boolParam(params, 'src');
    if (asList(params.arch).length === 0 && !src) throw new ParameterError(`nothing to download: 'arch' is empty and 'src' is false`);
    const selection = selectArches(params.arch, undefined, src, { noarchUnlessOnlySrc: true });
    const dir = targetDir(stringParam(params, 'target_dir', 'bodhi', false), request.job);
    await mkdir(dir, { recursive: true });

    const url = `${config.services.bodhiUrl}/updates/${encodeURIComponent(id)}`;
    let body: UpdateBody;
    try {
      body = await getJson<UpdateBody>(url, `Bodhi update '${id}'`, { ...(run.signal ? { signal: run.signal } : {}), ...(run.retry ? { retry: run.retry } : {}) });
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError(`Update with ID '${id}' wasn't found in Bodhi (${url})`);
      throw error;
    }
    const nvrs = (body.update?.builds ?? []).map((b) => b.nvr).filter((n): n is string => typeof n === 'string');
    run.log(`update ${id}: ${nvrs.join(', ') || 'no builds'}`);
    const koji = new KojiDownloader(run);
    const builds = [];
    for (const nvr of nvrs) builds.push(await koji.getBuild(nvr));
    const rpms = await koji.download(await koji.rpmsOf(builds, selection, false), dir);
    return { downloaded_rpms: rpms };
  });
}
