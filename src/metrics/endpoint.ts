// A Prometheus scrape endpoint: GET /metrics answers the process's prom-client registry followed by
// the Temporal SDK runtime's own metrics. Temporal core exports those from its own HTTP server; we
// bind that to a private loopback port and fold its text into ours, so an operator scrapes one
// endpoint per process (ingest :9464, runner :9465 in `npm start`) and sees both.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:9464`, `[::1]:9464`, `:9464` (all interfaces) or `9464`; throws naming the setting. */
export function parseListen(text: string, setting = 'metrics listen address'): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${setting}: '${text}' is not host:port (e.g. 127.0.0.1:9464)`);
  }
  const host = match[1] ?? (match[2] || '0.0.0.0');
  return { host, port };
}

/** A configured listen address, or undefined for unset, '' or 'off' (metrics turned off). */
export function enabled(listen: string | undefined): string | undefined {
  const value = listen?.trim();
  return value && value.toLowerCase() !== 'off' ? value : undefined;
}

/** A registry with the Node process's default metrics (CPU, memory, event loop lag, GC) in it. */
export function processRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsEndpoint {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface EndpointOptions {
  /** Temporal core's Prometheus exporter (`host:port` it was bound to), folded into every answer. */
  temporalCore?: string;
  /** How long to wait for core's answer before serving ours alone. */
  coreTimeoutMs?: number;
}

export async function serveMetrics(registry: Registry, listen: string | ListenAddress, options: EndpointOptions = {}): Promise<MetricsEndpoint> {
  const address = typeof listen === 'string' ? parseListen(listen) : listen;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(path === '/' ? 'taskotron metrics: GET /metrics\n' : 'not found: GET /metrics\n');
      return;
    }
    void scrape(registry, options).then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`metrics: ${address.host}:${address.port} is already in use (set a free address or turn metrics off)`) : error),
    );
    server.listen(address.port, address.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host === '0.0.0.0' ? '127.0.0.1' : address.host;
  return {
    url: `http://${host}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function scrape(registry: Registry, options: EndpointOptions): Promise<string> {
  const ours = await registry.metrics();
  if (!options.temporalCore) return ours;
  try {
    const response = await fetch(`http://${options.temporalCore}/metrics`, { signal: AbortSignal.timeout(options.coreTimeoutMs ?? 2000) });
    const core = await response.text();
    if (!response.ok) throw new Error(`answered ${response.status}`);
    return `${ours}\n# Temporal SDK runtime (core) metrics\n${core}`;
  } catch (error) {
    // Our own metrics are still worth serving; say why Temporal's are missing.
    return `${ours}\n# Temporal SDK runtime metrics unavailable from ${options.temporalCore}: ${(error as Error).message}\n`;
  }
}
