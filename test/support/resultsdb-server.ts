// A ResultsDB API v2.0 server for tests, on node:http at 127.0.0.1 (random port), in memory.
// It follows the documented behaviour (../shared/reference/taskotron.md §4, ResultsDB 2.0.5): the
// objects and their serialisation, POST validation and its exact messages, `data` stored as lists of
// strings, testcases and groups created on first use, filters, `since`, paging with prev/next links
// built from the request URL. Two choices where 2.0.5 behaved in undocumented ways: a missing
// required field answers the documented `{"message": "Missing data"}`, and arguments of the wrong
// type answer `Malformed Request: <field>: <reason>`.
// Like the real 2.2.0 (resultsdb/models/results.py, controllers/api_v2.py): the accepted outcomes are
// the preset four plus ADDITIONAL_RESULT_OUTCOMES, listed on the landing page `GET /api/v2.0/` (300),
// and a POST /results with any other outcome answers 400 `outcome must be one of (…)`; the
// testcase a POST /testcases names is created whatever comes after. With `auth`, it plays the
// HTTP basic auth of a proxy in front of ResultsDB: writes without the credentials answer 401.
// For tests it can also play an outage (503 for a while), refuse connections, lose the answer to a
// POST it has stored (a crash seen from the client), and it counts what it was asked.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const QUERY_LIMIT = 20;
const BASE_OUTCOMES = ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION'];
const PREFIX = '/api/v2.0';

interface Testcase {
  name: string;
  ref_url: string | null;
}
interface Group {
  id: number;
  uuid: string;
  description: string | null;
  ref_url: string | null;
}
interface Result {
  id: number;
  testcase: string;
  outcome: string;
  note: string | null;
  ref_url: string | null;
  submitTime: number;
  groups: string[];
  data: [string, string][];
}

export interface ResultsDBServerOptions {
  /** ADDITIONAL_RESULT_OUTCOMES; default Fedora's `['CRASHED']` (ResultsDB's own default is none: `[]`). */
  additionalOutcomes?: string[];
  /** Require these basic-auth credentials on every POST (reads stay open, as Fedora's proxy does). */
  auth?: { username: string; password: string };
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
}

export interface ResultsDBTestServer {
  /** API root, e.g. `http://127.0.0.1:41234/api/v2.0`. */
  readonly url: string;
  readonly port: number;
  /** Every request answered (or dropped: status 0), in order. */
  readonly requests: RequestRecord[];
  /** POST /results requests that stored a result. */
  storedPosts(): number;
  /** Answer every request with 503 for `ms` milliseconds from now. */
  outage(ms: number): void;
  /**
   * After `afterStored` more POST /results have been answered, the next `count` store their result
   * and then drop the connection without answering: a crash as the client sees it.
   */
  loseAnswers(count: number, afterStored?: number): void;
  /**
   * After `afterStored` more POST /results have been answered, the next one stores its result and
   * then never answers (the client waits, as on a runner killed mid-request). Resolves once stored.
   */
  stallAnswer(afterStored?: number): Promise<void>;
  /** Stop listening (clients get ECONNREFUSED) until `resume()`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** The stored results, oldest first, serialised as the API would. */
  results(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startResultsDBServer(options: ResultsDBServerOptions = {}): Promise<ResultsDBTestServer> {
  const outcomes = [...BASE_OUTCOMES, ...(options.additionalOutcomes ?? ['CRASHED'])];
  const testcases = new Map<string, Testcase>();
  const groups = new Map<string, Group>();
  const results: Result[] = [];
  const requests: RequestRecord[] = [];
  let nextResultId = 1;
  let nextGroupId = 1;
  let storedPostCount = 0;
  let outageUntil = 0;
  let answersToLose = 0;
  let answersBeforeLosing = 0;
  let lastSubmit = 0;
  let stall: { before: number; stored: () => void } | undefined;

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, `http://${req.headers.host ?? `127.0.0.1:${port}`}`);
    const origin = `http://${req.headers.host ?? `127.0.0.1:${port}`}`;
    const api = `${origin}${PREFIX}`;
    const send = (status: number, payload: unknown) => {
      requests.push({ method, path: rawUrl, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload, null, 2));
    };

    if (performance.now() < outageUntil) {
      requests.push({ method, path: rawUrl, status: 503 });
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>');
      return;
    }

    if (options.auth && method === 'POST') {
      const expected = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        requests.push({ method, path: rawUrl, status: 401 });
        res.writeHead(401, { 'content-type': 'text/html; charset=iso-8859-1', 'www-authenticate': 'Basic realm="ResultsDB"' });
        res.end('<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>401 Unauthorized</title>\n</head><body>\n<h1>Unauthorized</h1>\n<p>This server could not verify that you are authorized to access the document requested.</p>\n</body></html>\n');
        return;
      }
    }

    if (!url.pathname.startsWith(PREFIX)) return send(404, { message: 'Not found' });
    const path = url.pathname.slice(PREFIX.length).replace(/\/+$/, '');
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const query = url.searchParams;

    // --- serialisation (resultsdb/serializers/api_v2.py) ---
    const testcaseJson = (name: string) => {
      const tc = testcases.get(name)!;
      return { name: tc.name, ref_url: tc.ref_url, href: `${api}/testcases/${tc.name}` };
    };
    const groupJson = (g: Group) => ({
      uuid: g.uuid,
      description: g.description,
      ref_url: g.ref_url,
      results: `${api}/results?groups=${g.uuid}`,
      results_count: results.filter((r) => r.groups.includes(g.uuid)).length,
      href: `${api}/groups/${g.uuid}`,
    });
    const resultJson = (r: Result) => {
      const data: Record<string, string[]> = {};
      for (const [key, value] of r.data) (data[key] ??= []).push(value);
      return {
        id: r.id,
        outcome: r.outcome,
        testcase: testcaseJson(r.testcase),
        note: r.note,
        ref_url: r.ref_url,
        submit_time: isoformat(r.submitTime),
        groups: r.groups,
        data,
        href: `${api}/results/${r.id}`,
      };
    };
    const paged = <T>(items: T[], serialise: (t: T) => unknown) => {
      const page = intArg(query, 'page', 0);
      const limit = intArg(query, 'limit', QUERY_LIMIT);
      if (typeof page === 'object') return send(400, page);
      if (typeof limit === 'object') return send(400, limit);
      const offset = page > 0 ? page * limit : 0;
      const slice = items.slice(offset, offset + Math.max(limit, 0) + 1);
      const { prev, next } = prevNext(`${origin}${rawUrl}`, slice.length > limit);
      return send(200, { prev, next, data: slice.slice(0, Math.max(limit, 0)).map(serialise) });
    };

    // --- routes (resultsdb/controllers/api_v2.py) ---
    if (segments.length === 0 && method === 'GET') {
      return send(300, {
        message: 'Everything is fine. But choose wisely, for while the true Grail will bring you life, the false Grail will take it from you.',
        documentation: 'http://docs.resultsdb20.apiary.io/',
        groups: `${api}/groups`,
        results: `${api}/results`,
        testcases: `${api}/testcases`,
        outcomes: outcomes,
      });
    }

    const [resource, id, sub] = segments;
    if (resource === 'results' && method === 'POST' && segments.length === 1) {
      const parsed = jsonBody(body);
      if ('error' in parsed) return send(400, { message: parsed.error });
      const answer = createResult(parsed.value);
      if (answer.status === 201 && stall && stall.before-- <= 0) {
        requests.push({ method, path: rawUrl, status: 0 });
        stall.stored();
        stall = undefined;
        return;
      }
      if (answer.status === 201 && answersToLose > 0 && answersBeforeLosing-- <= 0) {
        answersToLose -= 1;
        requests.push({ method, path: rawUrl, status: 0 });
        req.socket.destroy();
        return;
      }
      return send(answer.status, answer.status === 201 ? resultJson(answer.result!) : { message: answer.message });
    }
    if (resource === 'results' && method === 'GET') {
      if (id === 'latest' && segments.length === 2) {
        const filters = resultFilters(query, outcomes);
        if ('message' in filters) return send(400, filters);
        const matching = selectResults(results, { ...filters, outcomes: undefined });
        const seen = new Set<string>();
        const latest = matching.filter((r) => !seen.has(r.testcase) && seen.add(r.testcase));
        return send(200, { data: latest.map(resultJson) });
      }
      if (id !== undefined && segments.length === 2) {
        const result = results.find((r) => String(r.id) === id);
        return result ? send(200, resultJson(result)) : send(404, { message: 'Result not found' });
      }
      if (segments.length === 1) {
        const filters = resultFilters(query, outcomes);
        if ('message' in filters) return send(400, filters);
        return paged(selectResults(results, filters), resultJson);
      }
    }
    if (resource === 'groups' && method === 'GET') {
      if (id !== undefined && sub === 'results' && segments.length === 3) {
        if (!groups.has(id)) return send(404, { message: `Group not found: ${id}` });
        const filters = resultFilters(query, outcomes);
        if ('message' in filters) return send(400, filters);
        return paged(selectResults(results, { ...filters, groups: [id] }), resultJson);
      }
      if (id !== undefined && segments.length === 2) {
        const group = groups.get(id);
        return group ? send(200, groupJson(group)) : send(404, { message: 'Group not found' });
      }
      if (segments.length === 1) {
        let list = [...groups.values()].sort((a, b) => b.id - a.id);
        const description = query.get('description');
        const like = query.get('description:like');
        if (description) {
          const wanted = description.split(',').filter((d) => d.trim());
          if (wanted.length > 0) list = list.filter((g) => wanted.includes(g.description ?? ''));
        } else if (like) {
          const patterns = like.split(',').filter((d) => d.trim()).map(likePattern);
          if (patterns.length > 0) list = list.filter((g) => patterns.some((p) => p.test(g.description ?? '')));
        }
        const uuids = query.get('uuid');
        if (uuids) list = list.filter((g) => uuids.split(',').includes(g.uuid));
        return paged(list, groupJson);
      }
    }
    if (resource === 'groups' && method === 'POST' && segments.length === 1) {
      const parsed = jsonBody(body);
      if ('error' in parsed) return send(400, { message: parsed.error });
      const args = parsed.value;
      const group = upsertGroup(typeof args.uuid === 'string' && args.uuid ? args.uuid : randomUUID());
      if (args.ref_url) group.ref_url = String(args.ref_url);
      if (args.description) group.description = String(args.description);
      return send(201, groupJson(group));
    }
    if (resource === 'testcases' && method === 'GET') {
      if (id !== undefined && sub === 'results' && segments.length === 3) {
        if (!testcases.has(id)) return send(404, { message: 'Testcase not found' });
        const filters = resultFilters(query, outcomes);
        if ('message' in filters) return send(400, filters);
        return paged(selectResults(results, { ...filters, testcases: [id], testcasesLike: [] }), resultJson);
      }
      if (id !== undefined && segments.length === 2) {
        return testcases.has(id) ? send(200, testcaseJson(id)) : send(404, { message: 'Testcase not found' });
      }
      if (segments.length === 1) {
        let names = [...testcases.keys()].sort();
        const name = query.get('name');
        const like = query.get('name:like');
        if (name) {
          const wanted = name.split(',').map((n) => n.trim()).filter(Boolean);
          if (wanted.length > 0) names = names.filter((n) => wanted.includes(n));
        } else if (like) {
          const patterns = like.split(',').map((n) => n.trim()).filter(Boolean).map(likePattern);
          if (patterns.length > 0) names = names.filter((n) => patterns.some((p) => p.test(n)));
        }
        return paged(names, testcaseJson);
      }
    }
    if (resource === 'testcases' && method === 'POST' && segments.length === 1) {
      const parsed = jsonBody(body);
      if ('error' in parsed) return send(400, { message: parsed.error });
      const { name, ref_url } = parsed.value;
      if (name === undefined || name === null) return send(400, { message: 'Missing data' });
      if (typeof name !== 'string' || name === '') return send(400, { message: `Malformed Request: name: Expected non-empty value, got ${pyRepr(name)}` });
      const testcase = testcases.get(name) ?? { name, ref_url: null };
      if (ref_url !== undefined && ref_url !== null) testcase.ref_url = String(ref_url);
      testcases.set(name, testcase);
      return send(201, testcaseJson(name));
    }
    const known = ['results', 'groups', 'testcases'].includes(resource ?? '') && segments.length <= 3;
    return known ? send(405, { message: 'The method is not allowed for the requested URL.' }) : send(404, { message: 'Not found' });
  }

  function upsertGroup(uuid: string): Group {
    let group = groups.get(uuid);
    if (!group) {
      group = { id: nextGroupId++, uuid, description: null, ref_url: null };
      groups.set(uuid, group);
    }
    return group;
  }

  /** POST /results, in the order 2.0.5's create_result checks things. */
  function createResult(args: Record<string, unknown>): { status: number; message?: string; result?: Result } {
    if (args.outcome === undefined || args.outcome === null || args.testcase === undefined || args.testcase === null) {
      return { status: 400, message: 'Missing data' };
    }
    if (typeof args.outcome !== 'string' || args.outcome === '') {
      return { status: 400, message: `Malformed Request: outcome: Expected non-empty value, got ${pyRepr(args.outcome)}` };
    }
    if (typeof args.testcase !== 'string' && !isObject(args.testcase)) {
      return { status: 400, message: `Malformed Request: testcase: Expected dict or string, got ${pyType(args.testcase)}` };
    }
    if (args.groups !== undefined && args.groups !== null && !Array.isArray(args.groups)) {
      return { status: 400, message: `Malformed Request: groups: Expected list or None, got ${pyType(args.groups)}` };
    }
    if (args.data !== undefined && args.data !== null && !isObject(args.data)) {
      return { status: 400, message: `Malformed Request: data: Expected dict, got ${pyType(args.data)}` };
    }
    const outcome = args.outcome.trim().toUpperCase();
    if (!outcomes.includes(outcome)) return { status: 400, message: `outcome must be one of ${pyTuple(outcomes)}` };
    const data = (args.data ?? undefined) as Record<string, unknown> | undefined;
    if (data) {
      const invalid = Object.keys(data).filter((key) => key.includes(':'));
      if (invalid.length > 0) return { status: 400, message: `Colon not allowed in key name: [${invalid.map(pyRepr).join(', ')}]` };
    }
    const tc = typeof args.testcase === 'string' ? { name: args.testcase } : (args.testcase as Record<string, unknown>);
    if (typeof args.testcase === 'string' && !tc.name) return { status: 400, message: 'testcase name not set' };
    if (!('name' in tc)) return { status: 400, message: 'testcase.name not set' };
    const name = String(tc.name);
    const testcase = testcases.get(name) ?? { name, ref_url: null };
    if ('ref_url' in tc) testcase.ref_url = tc.ref_url === null ? null : String(tc.ref_url);
    testcases.set(name, testcase);

    const groupUuids: string[] = [];
    for (const raw of (args.groups as unknown[] | undefined) ?? []) {
      if (typeof raw !== 'string' && !isObject(raw)) return { status: 400, message: 'Bad request' };
      const grp = typeof raw === 'string' ? { uuid: raw } : (raw as Record<string, unknown>);
      const group = upsertGroup(typeof grp.uuid === 'string' ? grp.uuid : randomUUID());
      if ('description' in grp) group.description = grp.description === null ? null : String(grp.description);
      if ('ref_url' in grp) group.ref_url = grp.ref_url === null ? null : String(grp.ref_url);
      groupUuids.push(group.uuid);
    }

    const rows: [string, string][] = [];
    for (const [key, value] of Object.entries(data ?? {})) {
      if (Array.isArray(value)) for (const v of value) rows.push([key, pyStr(v)]);
      else rows.push([key, pyStr(value)]);
    }
    // submit_time strictly increases, so "newest first" is well defined even within a millisecond.
    lastSubmit = Math.max(Date.now(), lastSubmit + 1);
    const result: Result = {
      id: nextResultId++,
      testcase: name,
      outcome,
      note: args.note === undefined || args.note === null ? null : String(args.note as string),
      ref_url: args.ref_url === undefined || args.ref_url === null ? null : String(args.ref_url as string),
      submitTime: lastSubmit,
      groups: groupUuids,
      data: rows,
    };
    results.push(result);
    storedPostCount += 1;
    return { status: 201, result };
  }

  return {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    port,
    requests,
    storedPosts: () => storedPostCount,
    outage(ms: number) {
      outageUntil = performance.now() + ms;
    },
    loseAnswers(count: number, afterStored = 0) {
      answersToLose = count;
      answersBeforeLosing = afterStored;
    },
    stallAnswer(afterStored = 0) {
      return new Promise<void>((stored) => {
        stall = { before: afterStored, stored };
      });
    },
    async pause() {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
    async resume() {
      await listen(server, port);
    },
    results() {
      return results.map((r) => {
        const data: Record<string, string[]> = {};
        for (const [key, value] of r.data) (data[key] ??= []).push(value);
        return { id: r.id, testcase: r.testcase, outcome: r.outcome, note: r.note, ref_url: r.ref_url, groups: r.groups, data };
      });
    },
    async close() {
      if (!server.listening) return;
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

interface Filters {
  since?: { start: number; end?: number };
  outcomes?: string[] | undefined;
  groups: string[];
  testcases: string[];
  testcasesLike: string[];
  data: [key: string, like: boolean, values: string[]][];
}

const RESULT_ARGS = new Set(['page', 'limit', 'since', 'outcome', 'groups', '_sort', 'testcases', 'testcases:like', 'callback', '_']);

function resultFilters(query: URLSearchParams, outcomes: string[]): Filters | { message: unknown } {
  for (const name of ['page', 'limit']) {
    const value = intArg(query, name, 0);
    if (typeof value === 'object') return value;
  }
  const filters: Filters = { groups: [], testcases: [], testcasesLike: [], data: [] };
  const outcome = query.get('outcome');
  if (outcome !== null) {
    filters.outcomes = outcome.split(',').map((o) => o.trim().toUpperCase());
    for (const o of filters.outcomes) {
      if (!outcomes.includes(o)) return { message: `outcome ${pyRepr(o)} not one of ${pyTuple(outcomes)}` };
    }
  }
  const since = query.get('since');
  if (since !== null) {
    const [start, end] = since.split(',');
    const s = parseIso(start ?? '');
    const e = end === undefined ? undefined : parseIso(end);
    if (s === undefined || (end !== undefined && e === undefined)) return { message: "'since' parameter not in ISO8601 format" };
    filters.since = { start: s, ...(e !== undefined ? { end: e } : {}) };
  }
  const list = (name: string) => (query.get(name) ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  filters.groups = list('groups');
  filters.testcases = list('testcases');
  filters.testcasesLike = list('testcases:like');
  const keys = new Set([...query.keys()].filter((k) => !RESULT_ARGS.has(k)));
  for (const param of keys) {
    const values = query.getAll(param).flatMap((v) => v.split(','));
    const parts = param.split(':');
    const like = parts.length === 2 && parts[1] === 'like';
    filters.data.push([parts.length === 2 ? parts[0]! : param, like, values]);
  }
  return filters;
}

/** select_results(): newest first, every filter ANDed, values within one filter ORed. */
function selectResults(results: Result[], f: Filters): Result[] {
  return results
    .filter((r) => {
      if (f.since && r.submitTime < f.since.start) return false;
      if (f.since?.end !== undefined && r.submitTime > f.since.end) return false;
      if (f.outcomes && !f.outcomes.includes(r.outcome)) return false;
      if (f.groups.length > 0 && !r.groups.some((g) => f.groups.includes(g))) return false;
      if (f.testcases.length > 0 || f.testcasesLike.length > 0) {
        const byName = f.testcases.includes(r.testcase) || f.testcasesLike.some((p) => likePattern(p).test(r.testcase));
        if (!byName) return false;
      }
      for (const [key, like, values] of f.data) {
        const matches = r.data.some(([k, v]) => k === key && (like ? values.some((p) => likePattern(p).test(v)) : values.includes(v)));
        if (!matches) return false;
      }
      return true;
    })
    .sort((a, b) => b.submitTime - a.submitTime);
}

/** prev_next_urls(): the request URL with its page number replaced (or `page` appended). */
function prevNext(requestUrl: string, more: boolean): { prev: string | null; next: string | null } {
  const placeholder = '\u0000PAGE\u0000';
  const match = /([?&])page=([0-9]+)/.exec(requestUrl);
  let page = 0;
  let base: string;
  if (!match) base = `${requestUrl}${requestUrl.includes('?') ? '&' : '?'}page=${placeholder}`;
  else {
    page = Number(match[2]);
    base = requestUrl.replace(/([?&])page=([0-9]+)/, `$1page=${placeholder}`);
  }
  base = base.replace(/([?&])callback=[^&]*&?/, '$1').replace(/&+/g, '&');
  return {
    prev: page > 0 ? base.replace(placeholder, String(page - 1)) : null,
    next: more ? base.replace(placeholder, String(page + 1)) : null,
  };
}

function intArg(query: URLSearchParams, name: string, fallback: number): number | { message: Record<string, string> } {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\s*[-+]?\d+\s*$/.test(raw)) return { message: { [name]: `invalid literal for int() with base 10: ${pyRepr(raw)}` } };
  return Number(raw);
}

/** `*` is the wildcard of `:like` filters (SQL LIKE with `%`, which also matches a literal `%`). */
function likePattern(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/[*%]/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${escaped}$`, 's');
}

/** iso8601.parse_date, then the timezone dropped (not converted), as 2.0.5 does. */
function parseIso(text: string): number | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(Number(`0.${frac}`) * 1000));
  return Number.isNaN(ms) ? undefined : ms;
}

/** datetime.isoformat() of a naive UTC time: microseconds only when non-zero. */
function isoformat(ms: number): string {
  const iso = new Date(ms).toISOString();
  const fraction = ms % 1000;
  return fraction === 0 ? iso.slice(0, 19) : `${iso.slice(0, 19)}.${String(fraction).padStart(3, '0')}000`;
}

/** Python's unicode(value) for what JSON can carry. */
function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

function pyRepr(value: unknown): string {
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : pyStr(value);
}

function pyTuple(values: string[]): string {
  return `(${values.map(pyRepr).join(', ')}${values.length === 1 ? ',' : ''})`;
}

function pyType(value: unknown): string {
  if (Array.isArray(value)) return "<type 'list'>";
  if (typeof value === 'string') return "<type 'unicode'>";
  if (typeof value === 'number') return Number.isInteger(value) ? "<type 'int'>" : "<type 'float'>";
  if (typeof value === 'boolean') return "<type 'bool'>";
  if (value === null) return "<type 'NoneType'>";
  return "<type 'dict'>";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonBody(body: string): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { error: `Malformed Request: 400 Bad Request: Failed to decode JSON object: ${(error as Error).message}` };
  }
  if (!isObject(value)) return { error: 'Malformed Request: 400 Bad Request: The browser (or proxy) sent a request that this server could not understand.' };
  return { value };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      done();
    });
  });
}
