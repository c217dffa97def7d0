// The artifacts web server: every job's artifacts directory (`<dir>/<uuid>/…`) over HTTP, with
// directory listings, content types, and text a browser shows instead of downloading (logs, YAML,
// JSON, files without an extension). serve-static refuses `..` and dotfiles; on top of that a
// request whose real path (symlinks resolved) leaves the artifacts directory is a 404, since
// artifacts are written by task code that could plant a link to /etc.
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import finalhandler from 'finalhandler';
import serveIndex from 'serve-index';
import serveStatic from 'serve-static';
import { parseListen } from '../metrics/endpoint.js';

/** Shown inline as UTF-8 text: what tasks write as logs and results. */
const TEXT_EXTENSIONS = new Set(['', '.log', '.txt', '.out', '.err', '.yml', '.yaml', '.json', '.xml', '.spec', '.diff', '.patch', '.py', '.sh', '.cfg', '.ini', '.md', '.rst', '.csv']);

export interface ArtifactsServer {
  /** e.g. http://127.0.0.1:8081/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function serveArtifacts(dir: string, listen: string): Promise<ArtifactsServer> {
  const root = realpathSync(dir);
  const address = parseListen(listen, 'artifacts.listen');
  const files = serveStatic(root, {
    index: false,
    dotfiles: 'ignore',
    fallthrough: true,
    setHeaders(res, path) {
      if (TEXT_EXTENSIONS.has(extname(path).toLowerCase())) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
  const listing = serveIndex(root, { icons: false, view: 'details', hidden: false });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const done = finalhandler(req, res);
    void insideRoot(root, req.url ?? '/').then((inside) => {
      if (!inside) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
        return;
      }
      // serve-index's types want express objects; it only uses what node:http gives.
      files(req, res, (error?: unknown) => (error ? done(error) : listing(req as Parameters<typeof listing>[0], res as Parameters<typeof listing>[1], done)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`artifacts: ${address.host}:${address.port} is already in use`) : error),
    );
    server.listen(address.port, address.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Whether the URL's path, symlinks resolved, stays inside root (a path that does not exist: let serve-static 404 it). */
async function insideRoot(root: string, url: string): Promise<boolean> {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url, 'http://x').pathname);
  } catch {
    return false;
  }
  if (path.includes('\0')) return false;
  const target = join(root, path);
  const lexical = relative(root, target);
  if (lexical.startsWith('..') || isAbsolute(lexical)) return false;
  try {
    const real = await realpath(target);
    return real === root || real.startsWith(root + sep);
  } catch {
    return true;
  }
}
