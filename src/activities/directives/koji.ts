// `koji`: download a build, a tag's builds or the latest stable build of a package from Koji
// (reference/taskotron.md §1.5, fedora-services.md §1.9). Metadata comes from the hub's XML-RPC API,
// files from the package URL layout `<pkg_url>/<name>/<version>/<release>/<arch>/<nvra>.rpm`.
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { isDebugPackage, selectArches, wanted, type ArchSelection } from '../fedora/arches.js';
import { downloadFile } from '../fedora/download.js';
import { NotFoundError } from '../fedora/http.js';
import { KojiSession, kojiInt, type KojiFault } from '../fedora/koji-hub.js';
import { compareEvr, fedoraTagOf, parseNvr } from '../fedora/nvr.js';
import { ParameterError, boolParam, runFedoraDirective, stringParam, type DirectiveRun } from '../fedora/runtime.js';
import type { RunnerConfig } from '../runner-config.js';
import type { ActionOutput, ActionRequest, JobPaths } from './context.js';

export interface KojiParams {
  action: 'download' | 'download_tag' | 'download_latest_stable';
  koji_build?: string;
  koji_tag?: string;
  arch: string | string[];
  arch_exclude?: string | string[];
  src?: boolean;
  debuginfo?: boolean;
  build_log?: boolean;
  target_dir?: string;
}

export interface KojiOutput {
  downloaded_rpms?: string[];
  downloaded_logs?: string[];
  log_errors?: string[];
}

/** A build as the hub describes it (getBuild, listTagged rows). */
interface BuildInfo {
  id: number;
  nvr: string;
  package_name: string;
  version: string;
  release: string;
  epoch: number | null;
}

interface RpmRow {
  name: string;
  version: string;
  release: string;
  arch: string;
  size: number;
  payloadhash: string;
}

const ACTIONS = ['download', 'download_tag', 'download_latest_stable'];
const MULTICALL_BATCH = 100;

/** Relative paths in a formula are relative to the task directory, where the original ran. */
export function targetDir(value: string | undefined, job: JobPaths): string {
  if (!value) return job.workdir;
  return isAbsolute(value) ? value : resolve(job.taskdir, value);
}

function build(value: unknown): BuildInfo {
  const b = value as Record<string, unknown>;
  return {
    id: kojiInt(b.build_id ?? b.id),
    nvr: String(b.nvr),
    package_name: String(b.package_name ?? b.name),
    version: String(b.version),
    release: String(b.release),
    epoch: b.epoch === null || b.epoch === undefined ? null : kojiInt(b.epoch),
  };
}

function rpmRow(value: unknown): RpmRow {
  const r = value as Record<string, unknown>;
  return { name: String(r.name), version: String(r.version), release: String(r.release), arch: String(r.arch), size: kojiInt(r.size), payloadhash: String(r.payloadhash ?? '') };
}

/** The Koji work of one action: shared by `koji` and `bodhi` (which downloads its update's builds). */
export class KojiDownloader {
  readonly session: KojiSession;

  constructor(
    private readonly run: DirectiveRun,
    private readonly config: RunnerConfig = run.config,
  ) {
    this.session = new KojiSession(config.services.kojiUrl, { ...(run.signal ? { signal: run.signal } : {}), ...(run.retry ? { retry: run.retry } : {}), onRetry: (e, n, ms) => run.log(`retry ${n} in ${ms} ms: ${e.message}`) });
  }

  /** getBuild(nvr); a build Koji does not know fails at once, naming it. */
  async getBuild(nvr: string): Promise<BuildInfo> {
    const info = await this.session.call('getBuild', [nvr]);
    if (info === null) throw new NotFoundError(`Koji build '${nvr}' does not exist (getBuild on ${this.config.services.kojiUrl} found nothing)`);
    return build(info);
  }

  /** The RPM rows of each build, in one multiCall of listRPMs(buildID=…, arches=…). */
  async rpmsOf(builds: BuildInfo[], selection: ArchSelection, debuginfo: boolean): Promise<Map<BuildInfo, RpmRow[]>> {
    const kwargs = (id: number) => ({ buildID: id, ...(selection.all ? {} : { arches: selection.arches }) });
    // Batches of MULTICALL_BATCH, as koji's own ClientSession.multiCall(batch=N) does: a tag can hold thousands of builds.
    const answers = [];
    for (let i = 0; i < builds.length; i += MULTICALL_BATCH) {
      answers.push(...(await this.session.multiCall(builds.slice(i, i + MULTICALL_BATCH).map((b) => ({ method: 'listRPMs', kwargs: kwargs(b.id) })))));
    }
    const rows = new Map<BuildInfo, RpmRow[]>();
    answers.forEach((answer, i) => {
      if (!answer.ok) throw answer.fault;
      const all = (answer.value as unknown[]).map(rpmRow);
      rows.set(builds[i]!, all.filter((r) => wanted(selection, r.arch) && (debuginfo || !isDebugPackage(r.name))));
    });
    return rows;
  }

  url(b: BuildInfo, rpm: RpmRow): string {
    return `${this.config.services.pkgUrl}/${b.package_name}/${b.version}/${b.release}/${rpm.arch}/${rpm.name}-${rpm.version}-${rpm.release}.${rpm.arch}.rpm`;
  }

  /** Downloads every row into `dir` (through the host cache); returns the absolute paths, sorted. */
  async download(rows: Map<BuildInfo, RpmRow[]>, dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const files = [...rows].flatMap(([b, rpms]) => rpms.map((rpm) => ({ url: this.url(b, rpm), rpm, nvr: b.nvr })));
    files.sort((a, b) => a.url.localeCompare(b.url));
    const progress = this.run.progress;
    progress.filesTotal += files.length;
    progress.bytesTotal += files.reduce((sum, f) => sum + f.rpm.size, 0);
    const paths: string[] = [];
    for (const file of files) {
      const dest = join(dir, `${file.rpm.name}-${file.rpm.version}-${file.rpm.release}.${file.rpm.arch}.rpm`);
      progress.current = file.url;
      const options = {
        expectedSize: file.rpm.size,
        progress,
        what: `${file.nvr}: ${dest.split('/').at(-1)}`,
        ...(this.run.signal ? { signal: this.run.signal } : {}),
        ...(this.run.retry ? { retry: this.run.retry } : {}),
        onRetry: (e: Error, n: number, ms: number) => this.run.log(`retry ${n} in ${ms} ms: ${e.message}`),
      };
      const started = Date.now();
      let cached = false;
      if (this.run.cache) cached = (await this.run.cache.fetch(file.url, dest, `${file.rpm.size}:${file.rpm.payloadhash}`, options)).cached;
      else await downloadFile(file.url, dest, options);
      progress.filesDone += 1;
      this.run.log(`${cached ? 'cached' : 'GET'} ${file.url} -> ${dest} (${file.rpm.size} bytes, ${Date.now() - started} ms)`);
      paths.push(dest);
    }
    delete progress.current;
    return paths;
  }

  /** `build.log.<arch>` per arch of the build; a log Koji no longer has is listed, not raised. */
  async buildLogs(b: BuildInfo, arches: string[], dir: string): Promise<{ ok: string[]; errors: string[] }> {
    const ok: string[] = [];
    const errors: string[] = [];
    for (const arch of [...new Set(arches)].filter((a) => a !== 'src').sort()) {
      const url = `${this.config.services.pkgUrl}/${b.package_name}/${b.version}/${b.release}/data/logs/${arch}/build.log`;
      const dest = join(dir, `build.log.${arch}`);
      try {
        await downloadFile(url, dest, { what: `build.log of ${b.nvr} (${arch})`, progress: this.run.progress, ...(this.run.signal ? { signal: this.run.signal } : {}), ...(this.run.retry ? { retry: this.run.retry } : {}) });
        this.run.log(`GET ${url} -> ${dest}`);
        ok.push(dest);
      } catch (error) {
        if (this.run.signal?.aborted) throw error;
        this.run.log(`no build log for ${arch}: ${(error as Error).message}`);
        errors.push(arch);
      }
    }
    return { ok, errors };
  }

  /** The newest build of `name` across `tags` (listTagged(tag, package=name, latest=True) each). */
  async latestIn(tags: string[], name: string): Promise<BuildInfo | undefined> {
    const answers = await this.session.multiCall(tags.map((tag) => ({ method: 'listTagged', args: [tag], kwargs: { package: name, latest: true } })));
    const candidates: BuildInfo[] = [];
    answers.forEach((answer, i) => {
      if (!answer.ok) {
        // A release without an -updates tag yet is normal; anything else is trouble.
        if (/No such tagInfo/.test(answer.fault.faultString)) this.run.log(`tag ${tags[i]} does not exist; skipped`);
        else throw answer.fault;
        return;
      }
      const rows = answer.value as unknown[];
      if (rows.length > 0) candidates.push(build(rows[0]));
    });
    const evr = (b: BuildInfo) => ({ name, version: b.version, release: b.release, ...(b.epoch !== null ? { epoch: b.epoch } : {}) });
    candidates.sort((a, b) => compareEvr(evr(b), evr(a)));
    return candidates[0];
  }
}

export async function runKojiAction(request: ActionRequest<KojiParams>, config: RunnerConfig): Promise<ActionOutput> {
  return runFedoraDirective('koji', request, config, async (run) => {
    const params = (request.params ?? {}) as unknown as Record<string, unknown>;
    const action = stringParam(params, 'action', 'koji')!;
    if (!ACTIONS.includes(action)) throw new ParameterError(`'action' must be one of ${ACTIONS.join(', ')}, got '${action}'`);
    if (!('arch' in params)) throw new ParameterError(`'arch' is required (a string or a list; 'all' for every arch, [] for none)`);
    const selection = selectArches(params.arch, params.arch_exclude, boolParam(params, 'src'));
    const debuginfo = boolParam(params, 'debuginfo');
    const buildLog = boolParam(params, 'build_log');
    const dir = targetDir(stringParam(params, 'target_dir', 'koji', false), request.job);
    await mkdir(dir, { recursive: true });
    const koji = new KojiDownloader(run);
    const output: KojiOutput = {};
    let single: BuildInfo | undefined;

    if (action === 'download_tag') {
      const tag = stringParam(params, 'koji_tag', 'koji')!;
      let tagged: unknown[];
      try {
        tagged = await koji.session.call<unknown[]>('listTagged', [tag]);
      } catch (error) {
        if (/No such tagInfo/.test((error as KojiFault).faultString ?? '')) throw new NotFoundError(`Koji tag '${tag}' does not exist`);
        throw error;
      }
      const builds = tagged.map(build);
      run.log(`tag ${tag}: ${builds.length} builds`);
      output.downloaded_rpms = await koji.download(await koji.rpmsOf(builds, selection, debuginfo), dir);
      if (buildLog) run.log(`build_log is only supported for single-build actions; ignored for download_tag`);
      return output;
    }

    const nvr = stringParam(params, 'koji_build', 'koji')!;
    if (action === 'download') {
      if (!parseNvr(nvr)) throw new ParameterError(`koji_build '${nvr}' is not an N(E)VR`);
      single = await koji.getBuild(nvr);
    } else {
      const parsed = parseNvr(nvr);
      const tag = parsed && fedoraTagOf(parsed.release);
      if (!parsed || !tag) throw new ParameterError(`koji_build '${nvr}' has no Fedora dist tag (.fcNN), so there is no stable tag to look in`);
      single = await koji.latestIn([`${tag}-updates`, tag], parsed.name);
      if (!single) {
        run.log(`no stable build of ${parsed.name} in ${tag}-updates or ${tag}; nothing to download`);
        return output;
      }
      run.log(`latest stable build of ${parsed.name}: ${single.nvr}`);
    }
    const rows = await koji.rpmsOf([single], selection, debuginfo);
    output.downloaded_rpms = await koji.download(rows, dir);
    if (buildLog) {
      const logs = await koji.buildLogs(single, (rows.get(single) ?? []).map((r) => r.arch), dir);
      output.downloaded_logs = logs.ok;
      output.log_errors = logs.errors;
    }
    return output;
  });
}
