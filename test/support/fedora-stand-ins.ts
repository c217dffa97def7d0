// Bodhi and dist-git stand-ins on 127.0.0.1 (random ports), after ../shared/reference/fedora-services.md.
//  - Bodhi §2.1: GET /updates/<alias> → {update, can_edit, ci_allowed}; the update object is the
//    corpus's real one (bodhi-client's SINGLE_UPDATE fixture) with this test's alias and builds;
//    an unknown alias that is a package name → 302 to /updates/?packages=<name>; otherwise the
//    documented 404 JSON body (corpus update_not_found_404_body).
//  - dist-git §3.1: GET /<namespace>/<repo>/raw/<branch>/f/<path> → 200 with the blob,
//    `X-Content-Type-Options: nosniff` and a guessed Content-Type; a missing file or branch, or an
//    empty file, → 404 with an HTML page.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { corpusPath } from './corpus.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server) {
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

export interface BodhiStandIn {
  url: string;
  addUpdate(alias: string, nvrs: string[]): void;
  requests: string[];
  close(): Promise<void>;
}

export async function startBodhiStandIn(): Promise<BodhiStandIn> {
  const template = (JSON.parse(readFileSync(corpusPath('bodhi', 'get_update_response__bodhi-client_SINGLE_UPDATE_MUNCH.json'), 'utf8')) as { update: Record<string, unknown> }).update;
  const notFound = readFileSync(corpusPath('bodhi', 'update_not_found_404_body__test_updates.json'), 'utf8');
  const updates = new Map<string, string[]>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const match = /^\/updates\/([^/]+)\/?$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return res.end(notFound);
    }
    const alias = decodeURIComponent(match[1]!);
    const nvrs = updates.get(alias);
    if (!nvrs) {
      const pkg = [...updates.values()].flat().find((nvr) => nvr.replace(/-[^-]+-[^-]+$/, '') === alias);
      if (pkg) {
        res.writeHead(302, { Location: `/updates/?packages=${encodeURIComponent(alias)}` });
        return res.end();
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return res.end(notFound);
    }
    const update = {
      ...template,
      alias,
      updateid: alias,
      title: nvrs.join(' '),
      url: `https://bodhi.fedoraproject.org/updates/${alias}`,
      builds: nvrs.map((nvr) => ({ epoch: 0, nvr, signed: true })),
    };
    const body = JSON.stringify({ update, can_edit: false, ci_allowed: false });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  const url = await listen(server);
  return { url, addUpdate: (alias, nvrs) => updates.set(alias, nvrs), requests, close: closer(server) };
}

export interface DistgitStandIn {
  url: string;
  /** Puts `content` at <namespace>/<repo>@<branch>:<path>. */
  addFile(namespace: string, repo: string, branch: string, path: string, content: string): void;
  requests: string[];
  close(): Promise<void>;
}

const NOT_FOUND_PAGE = '<!DOCTYPE html>\n<html lang="en">\n<head><title>Page not found :\'( - Pagure</title></head>\n<body><h2>Page not found (404)</h2><p>%s</p></body>\n</html>\n';

export async function startDistgitStandIn(): Promise<DistgitStandIn> {
  const files = new Map<string, string>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    requests.push(url.pathname);
    const notFound = (why: string) => {
      res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(NOT_FOUND_PAGE.replace('%s', why));
    };
    const match = /^\/([^/]+)\/([^/]+)\/raw\/([^/]+)\/f\/(.+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return notFound('Project not found');
    const [, namespace, repo, branch, path] = match.map((p) => decodeURIComponent(p ?? ''));
    if (![...files.keys()].some((k) => k.startsWith(`${namespace}/${repo}@`))) return notFound('Project not found');
    if (![...files.keys()].some((k) => k.startsWith(`${namespace}/${repo}@${branch}:`))) return notFound('Branch not found');
    const content = files.get(`${namespace}/${repo}@${branch}:${path}`);
    if (!content) return notFound(content === '' ? 'No content found' : 'File not found');
    // eslint-disable-next-line no-control-regex
    const ascii = /^[\x00-\x7f]*$/.test(content);
    res.writeHead(200, {
      'Content-Type': ascii ? 'text/plain; charset=ascii' : 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(content),
    });
    res.end(content);
  });
  const url = await listen(server);
  return { url, addFile: (namespace, repo, branch, path, content) => files.set(`${namespace}/${repo}@${branch}:${path}`, content), requests, close: closer(server) };
}
