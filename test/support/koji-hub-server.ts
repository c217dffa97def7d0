// A Koji stand-in on 127.0.0.1 (random port): the hub's XML-RPC endpoint at /kojihub and the package
// tree at /packages, following ../shared/reference/fedora-services.md §1 byte for byte where it says
// how: responses laid out as koji.xmlrpcplus.dumps writes them (Python's marshaller: `<nil/>` with no
// newline after it, <i8> past 2³¹, faults as a <fault> struct), 200 + text/xml + Koji-Version for
// answers and faults alike, 405 for non-POST, 400 for an unparseable body, keyword arguments from a
// trailing struct marked `__starstar`, `multiCall` answering `[value]` or a fault struct per call,
// ParameterError (1019) for unknown keywords, `Invalid method: <name>` (1000) for unknown methods.
// The package tree serves real RPM files (see rpm-fixtures.ts) at `<name>/<version>/<release>/<arch>/<nvra>.rpm`
// and logs at `data/logs/<arch>/build.log`. For tests it can answer 503 for a while, cut a file
// short, and it counts what it was asked.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Deserializer } from '@foxglove/xmlrpc';
import type { BuiltRpm } from './rpm-fixtures.js';

export interface StandInBuild {
  name: string;
  version: string;
  release: string;
  epoch?: number | null;
  rpms: BuiltRpm[];
  /** build.log text per arch; an arch without one answers 404 (Koji prunes logs). */
  logs?: Record<string, string>;
  tags?: string[];
}

interface StoredBuild extends StandInBuild {
  id: number;
  nvr: string;
  rpmIds: number[];
}

export interface KojiStandIn {
  hubUrl: string;
  pkgUrl: string;
  addBuild(build: StandInBuild): number;
  /** The next `count` GETs of paths containing `fragment` answer `status` (a 503 burst). */
  failNext(fragment: string, count: number, status?: number): void;
  /** The next `count` GETs of paths containing `fragment` send half the file, then drop the connection. */
  truncateNext(fragment: string, count: number): void;
  /** The next `count` GETs of paths containing `fragment` send half the file, then nothing, holding the connection open. */
  stallNext(fragment: string, count: number): void;
  /** GETs per path under /packages. */
  gets: Map<string, number>;
  /** Hub calls by method name (multiCall's inner calls counted too). */
  calls: string[];
  close(): Promise<void>;
}

// ---- Python xmlrpc.client marshalling, as koji.xmlrpcplus extends it ------------------------------

class Fault {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {}
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function dump(value: unknown): string {
  if (value === null || value === undefined) return '<value><nil/></value>';
  if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>\n`;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return Math.abs(value) > 2 ** 31 - 1 ? `<value><i8>${value}</i8></value>\n` : `<value><int>${value}</int></value>\n`;
    return `<value><double>${String(value)}</double></value>\n`;
  }
  if (typeof value === 'string') return `<value><string>${escape(value)}</string></value>\n`;
  if (Array.isArray(value)) return `<value><array><data>\n${value.map(dump).join('')}</data></array></value>\n`;
  const members = Object.entries(value as Record<string, unknown>).map(([k, v]) => `<member>\n<name>${escape(k)}</name>\n${dump(v)}</member>\n`);
  return `<value><struct>\n${members.join('')}</struct></value>\n`;
}

function response(result: unknown): string {
  if (result instanceof Fault) {
    return `<?xml version='1.0'?>\n<methodResponse>\n<fault>\n${dump({ faultCode: result.faultCode, faultString: result.faultString })}</fault>\n</methodResponse>\n`;
  }
  return `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${dump(result)}</param>\n</params>\n</methodResponse>\n`;
}

// ---- argument binding like kojixmlrpc's decode_args + call_with_argcheck ---------------------------

const SIGNATURES: Record<string, string[]> = {
  getBuild: ['buildInfo', 'strict'],
  listRPMs: ['buildID', 'buildrootID', 'imageID', 'componentBuildrootID', 'hostID', 'arches', 'queryOpts', 'draft'],
  listBuildRPMs: ['build'],
  listTagged: ['tag', 'event', 'inherit', 'prefix', 'latest', 'package', 'owner', 'type', 'strict', 'extra', 'draft'],
  getTag: ['tagInfo', 'strict', 'event', 'blocked'],
  getBuildLogs: ['build'],
};

function bind(method: string, params: unknown[]): Record<string, unknown> {
  const names = SIGNATURES[method]!;
  let args = params;
  let kwargs: Record<string, unknown> = {};
  const last = params.at(-1);
  if (last && typeof last === 'object' && !Array.isArray(last) && (last as Record<string, unknown>).__starstar === true) {
    args = params.slice(0, -1);
    kwargs = { ...(last as Record<string, unknown>) };
    delete kwargs.__starstar;
  }
  if (args.length > names.length) throw new Fault(1019, `${method}() takes at most ${names.length} arguments (${args.length} given)`);
  const bound: Record<string, unknown> = {};
  args.forEach((a, i) => (bound[names[i]!] = a));
  for (const [k, v] of Object.entries(kwargs)) {
    if (!names.includes(k)) throw new Fault(1019, `${method}() got an unexpected keyword argument '${k}'`);
    if (k in bound) throw new Fault(1019, `${method}() got multiple values for argument '${k}'`);
    bound[k] = v;
  }
  return bound;
}

const TIME = '2024-07-03 19:33:30.308675+00:00';

export async function startKojiStandIn(): Promise<KojiStandIn> {
  const builds: StoredBuild[] = [];
  const rpmRows = new Map<number, { rpm: BuiltRpm; build: StoredBuild }>();
  const failures: { fragment: string; count: number; status: number }[] = [];
  const truncations: { fragment: string; count: number; stall?: boolean }[] = [];
  const gets = new Map<string, number>();
  const calls: string[] = [];
  let nextRpmId = 6400;

  const buildInfo = (b: StoredBuild) => ({
    build_id: b.id,
    cg_id: null,
    cg_name: null,
    completion_time: TIME,
    completion_ts: 1720035210.308675,
    creation_event_id: 497668 + b.id,
    creation_time: TIME,
    creation_ts: 1720035179.011086,
    draft: false,
    epoch: b.epoch ?? null,
    extra: null,
    id: b.id,
    name: b.name,
    nvr: b.nvr,
    owner_id: 1,
    owner_name: 'packager',
    package_id: 290 + b.id,
    package_name: b.name,
    promoter_id: null,
    promoter_name: null,
    promotion_time: null,
    promotion_ts: null,
    release: b.release,
    source: `${b.nvr}.src.rpm`,
    start_time: TIME,
    start_ts: 1720035179.006214,
    state: 1,
    task_id: 14000 + b.id,
    version: b.version,
    volume_id: 0,
    volume_name: 'DEFAULT',
  });
  const rpmRow = (id: number) => {
    const { rpm, build } = rpmRows.get(id)!;
    return {
      arch: rpm.arch,
      build_id: build.id,
      buildroot_id: 900 + build.id,
      buildtime: 1720035209,
      draft: false,
      epoch: build.epoch ?? null,
      external_repo_id: 0,
      external_repo_name: 'INTERNAL',
      extra: null,
      id,
      metadata_only: false,
      name: rpm.name,
      nvr: `${rpm.name}-${rpm.version}-${rpm.release}`,
      payloadhash: rpm.payloadhash,
      release: rpm.release,
      size: rpm.size,
      version: rpm.version,
    };
  };
  const taggedRow = (b: StoredBuild, tag: string) => {
    const info = buildInfo(b) as Record<string, unknown>;
    for (const key of Object.keys(info)) if (key.endsWith('_ts')) delete info[key];
    delete info.cg_id;
    delete info.cg_name;
    delete info.source;
    return { ...info, tag_id: 100 + tag.length, tag_name: tag, create_event: 497700 + b.id };
  };
  const findBuild = (info: unknown): StoredBuild | undefined => {
    if (typeof info === 'number') return builds.find((b) => b.id === info);
    if (typeof info === 'string') {
      if (!/^.+-[^-]+-[^-]+$/.test(info)) throw new Fault(1000, `invalid format: ${info}`);
      return builds.find((b) => b.nvr === info || `${b.epoch}:${b.nvr}` === info);
    }
    if (info && typeof info === 'object') {
      const i = info as Record<string, unknown>;
      return builds.find((b) => b.name === i.name && b.version === i.version && b.release === i.release);
    }
    return undefined;
  };
  const tagExists = (tag: unknown) => builds.some((b) => b.tags?.includes(String(tag)));

  const methods: Record<string, (a: Record<string, unknown>) => unknown> = {
    getBuild(a) {
      const b = findBuild(a.buildInfo);
      if (!b) {
        if (a.strict) throw new Fault(1000, typeof a.buildInfo === 'string' ? `No such build: '${a.buildInfo}'` : `No such build: ${String(a.buildInfo)}`);
        return null;
      }
      return buildInfo(b);
    },
    listRPMs(a) {
      let rows = [...rpmRows.keys()].filter((id) => a.buildID === undefined || a.buildID === null || rpmRows.get(id)!.build.id === a.buildID);
      if (a.arches !== undefined && a.arches !== null) {
        if (typeof a.arches === 'string') rows = rows.filter((id) => rpmRows.get(id)!.rpm.arch === a.arches);
        else if (Array.isArray(a.arches)) rows = rows.filter((id) => (a.arches as string[]).includes(rpmRows.get(id)!.rpm.arch));
        else throw new Fault(1000, `Invalid type for arches option: ${typeof a.arches}`);
      }
      return rows.map(rpmRow);
    },
    listBuildRPMs(a) {
      const b = findBuild(a.build);
      if (!b) throw new Fault(1000, `No such build: ${typeof a.build === 'string' ? `'${a.build}'` : String(a.build)}`);
      return b.rpmIds.map(rpmRow);
    },
    listTagged(a) {
      if (!tagExists(a.tag)) throw new Fault(1000, `No such tagInfo: '${String(a.tag)}'`);
      // Newest tagging first: later-added builds count as tagged later.
      let tagged = builds.filter((b) => b.tags?.includes(String(a.tag))).reverse();
      if (a.package) tagged = tagged.filter((b) => b.name === a.package);
      if (a.latest) {
        const seen = new Set<string>();
        tagged = tagged.filter((b) => (seen.has(b.name) ? false : (seen.add(b.name), true)));
      }
      return tagged.map((b) => taggedRow(b, String(a.tag)));
    },
    getTag(a) {
      if (!tagExists(a.tagInfo)) {
        if (a.strict) throw new Fault(1000, `No such tagInfo: '${String(a.tagInfo)}'`);
        return null;
      }
      return { id: 100 + String(a.tagInfo).length, name: a.tagInfo, perm_id: null, perm: null, arches: null, locked: false, maven_support: false, maven_include_all: false, extra: {} };
    },
    getBuildLogs(a) {
      const b = findBuild(a.build);
      if (!b) throw new Fault(1000, `No such build: '${String(a.build)}'`);
      return Object.keys(b.logs ?? {}).map((arch) => ({ name: 'build.log', dir: arch, path: `packages/${b.name}/${b.version}/${b.release}/data/logs/${arch}/build.log` }));
    },
  };

  const callOne = (method: string, params: unknown[]): unknown => {
    calls.push(method);
    const fn = methods[method];
    if (!fn) throw new Fault(1000, `Invalid method: ${method}`);
    return fn(bind(method, params));
  };

  const hub = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    if (req.method !== 'POST') return send(405, 'text/plain', 'Method Not Allowed\n', { Allow: 'POST' });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let method: string;
    let params: unknown[];
    try {
      [method, params] = (await new Deserializer().deserializeMethodCall(Buffer.concat(chunks).toString('utf8'))) as [string, unknown[]];
    } catch (error) {
      return send(400, 'text/plain', `Bad Request: ${(error as Error).message}\n`);
    }
    let result: unknown;
    try {
      if (method === 'multiCall' || method === 'system.multicall') {
        calls.push('multiCall');
        const list = (params[0] ?? []) as { methodName: string; params: unknown[] }[];
        result = list.map((c) => {
          try {
            return [callOne(c.methodName, c.params ?? [])];
          } catch (error) {
            if (error instanceof Fault) return { faultCode: error.faultCode, faultString: error.faultString };
            return { faultCode: 1, faultString: `<class 'Exception'>: ${(error as Error).message}`, traceback: [] };
          }
        });
      } else {
        result = callOne(method, params);
      }
    } catch (error) {
      result = error instanceof Fault ? error : new Fault(1, `<class 'Exception'>: ${(error as Error).message}`);
    }
    send(200, 'text/xml', response(result), { 'Koji-Version': '1.36.1' });
  };

  const packages = (req: IncomingMessage, res: ServerResponse, path: string) => {
    gets.set(path, (gets.get(path) ?? 0) + 1);
    const failure = failures.find((f) => f.count > 0 && path.includes(f.fragment));
    if (failure) {
      failure.count -= 1;
      res.writeHead(failure.status, { 'Content-Type': 'text/html' });
      return res.end(`<html><body><h1>${failure.status} Service Unavailable</h1></body></html>\n`);
    }
    const parts = path.split('/').slice(2).map(decodeURIComponent); // ['', 'packages', name, version, release, ...]
    const [name, version, release, ...rest] = parts;
    const build = builds.find((b) => b.name === name && b.version === version && b.release === release);
    const notFound = () => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body><h1>Not Found</h1></body></html>\n');
    };
    if (!build) return notFound();
    if (rest[0] === 'data' && rest[1] === 'logs' && rest[3] === 'build.log' && rest.length === 4) {
      const text = build.logs?.[rest[2]!];
      if (text === undefined) return notFound();
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      return res.end(req.method === 'HEAD' ? undefined : text);
    }
    const rpm = rest.length === 2 ? build.rpms.find((r) => r.arch === rest[0] && `${r.name}-${r.version}-${r.release}.${r.arch}.rpm` === rest[1]) : undefined;
    if (!rpm) return notFound();
    const size = statSync(rpm.path).size;
    res.writeHead(200, { 'Content-Type': 'application/x-rpm', 'Content-Length': size, 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') return res.end();
    const truncation = truncations.find((t) => t.count > 0 && path.includes(t.fragment));
    if (truncation) {
      truncation.count -= 1;
      const half = createReadStream(rpm.path, { start: 0, end: Math.floor(size / 2) - 1 });
      half.on('data', (chunk) => res.write(chunk));
      half.on('end', () => {
        if (!truncation.stall) res.destroy();
      });
      return;
    }
    createReadStream(rpm.path).pipe(res);
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    if (path === '/kojihub') {
      hub(req, res).catch((error: Error) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(error.message);
      });
    } else if (path.startsWith('/packages/') && (req.method === 'GET' || req.method === 'HEAD')) {
      packages(req, res, path);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    hubUrl: `http://127.0.0.1:${port}/kojihub`,
    pkgUrl: `http://127.0.0.1:${port}/packages`,
    addBuild(build) {
      const id = 500 + builds.length + 1;
      const stored: StoredBuild = { ...build, id, nvr: `${build.name}-${build.version}-${build.release}`, rpmIds: [] };
      for (const rpm of build.rpms) {
        const rpmId = nextRpmId++;
        rpmRows.set(rpmId, { rpm, build: stored });
        stored.rpmIds.push(rpmId);
      }
      builds.push(stored);
      return id;
    },
    failNext(fragment, count, status = 503) {
      failures.push({ fragment, count, status });
    },
    truncateNext(fragment, count) {
      truncations.push({ fragment, count });
    },
    stallNext(fragment, count) {
      truncations.push({ fragment, count, stall: true });
    },
    gets,
    calls,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
