// A datagrepper-compatible `/raw` endpoint for tests: time-window filter, ascending order, paging,
// `topic` filter, and the response shape datagrepper gives (`raw_messages`, `pages`, `total`). It
// records each request and when it came, so tests can check paging and the rate limit.
import { createServer, type Server } from 'node:http';

export interface DatagrepperServer {
  url: string;
  requests: Array<{ at: number; params: URLSearchParams }>;
  /** While set, every request is answered 503 (an outage), and counted in `failed`. */
  outage: boolean;
  failed: number;
  close(): Promise<void>;
}

/**
 * A record may carry `[RAW_TEXT]`: the exact JSON text to serve for it (datagrepper writes floats as
 * `1504643044.0`, which JSON.stringify cannot), complete with datanommer's fields.
 */
export const RAW_TEXT = Symbol('raw text');

export async function startDatagrepper(records: Array<Record<string, unknown> & { [RAW_TEXT]?: string }>): Promise<DatagrepperServer> {
  const requests: DatagrepperServer['requests'] = [];
  const state = { outage: false, failed: 0 };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/raw') {
      res.writeHead(404).end();
      return;
    }
    if (state.outage) {
      state.failed++;
      res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>Service Unavailable</h1>');
      return;
    }
    requests.push({ at: Date.now(), params: url.searchParams });
    const start = Number(url.searchParams.get('start') ?? 0);
    const end = Number(url.searchParams.get('end') ?? Number.MAX_SAFE_INTEGER);
    const rows = Number(url.searchParams.get('rows_per_page') ?? 25);
    const page = Number(url.searchParams.get('page') ?? 1);
    const topics = url.searchParams.getAll('topic');
    const matching = records
      .filter((r) => Number(r.timestamp) >= start && Number(r.timestamp) <= end && (topics.length === 0 || topics.includes(String(r.topic))))
      .sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
    const pages = Math.max(1, Math.ceil(matching.length / rows));
    const head = {
      arguments: { start, end, page, rows_per_page: rows, order: 'asc' },
      count: Math.min(rows, Math.max(0, matching.length - (page - 1) * rows)),
      pages,
      total: matching.length,
    };
    const items = matching.slice((page - 1) * rows, page * rows).map((r) => r[RAW_TEXT] ?? JSON.stringify({ ...r, source_name: 'datanommer', source_version: '0.8.1', headers: {} }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(head).slice(0, -1)},"raw_messages":[${items.join(',')}]}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/raw`,
    requests,
    get outage() {
      return state.outage;
    },
    set outage(value: boolean) {
      state.outage = value;
    },
    get failed() {
      return state.failed;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
