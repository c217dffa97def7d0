// Reading the bus's history from a datagrepper-compatible `/raw` endpoint (reference §3.4): what
// fedmsg's own consumers did after a restart, and what `taskotron replay --datagrepper` does.
// Pages in ascending time order, rate-limited, each request retried a few times on failure.
import { normaliseDatagrepperRecord } from '../bus/envelope.js';

export interface DatagrepperQuery {
  /** Unix seconds, inclusive. */
  start: number;
  /** Unix seconds. */
  end: number;
  rowsPerPage?: number;
  /** Requests per second, at most. */
  ratePerSecond?: number;
  /** Exact topics to ask for (datagrepper's `topic=`); empty asks for everything. */
  topics?: string[];
  attempts?: number;
  signal?: AbortSignal;
}

interface RawPage {
  raw_messages?: unknown[];
  pages?: number;
  total?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** Yields the envelopes of [start, end], oldest first, page by page. */
export async function* datagrepperMessages(url: string, query: DatagrepperQuery): AsyncGenerator<Record<string, unknown>> {
  const rows = query.rowsPerPage ?? 100;
  const gap = 1000 / (query.ratePerSecond ?? 2);
  let lastRequest = 0;
  for (let page = 1; ; page++) {
    const params = new URLSearchParams({ start: String(query.start), end: String(query.end), order: 'asc', rows_per_page: String(rows), page: String(page) });
    for (const topic of query.topics ?? []) params.append('topic', topic);
    const target = `${url}${url.includes('?') ? '&' : '?'}${params}`;
    let body: RawPage | undefined;
    const attempts = query.attempts ?? 5;
    for (let attempt = 1; body === undefined; attempt++) {
      const wait = lastRequest + gap - Date.now();
      if (wait > 0) await sleep(wait, query.signal);
      if (query.signal?.aborted) return;
      lastRequest = Date.now();
      try {
        const response = await fetch(target, { signal: query.signal ?? null, headers: { accept: 'application/json' } });
        if (!response.ok) throw new Error(`HTTP ${response.status} from ${target}`);
        body = (await response.json()) as RawPage;
      } catch (error) {
        if (query.signal?.aborted) return;
        if (attempt >= attempts) throw new Error(`datagrepper page ${page} failed ${attempts} times: ${(error as Error).message}`);
        await sleep(Math.min(1000 * 2 ** attempt, 30_000), query.signal);
      }
    }
    for (const record of body.raw_messages ?? []) {
      if (typeof record === 'object' && record !== null && !Array.isArray(record)) yield normaliseDatagrepperRecord(record as Record<string, unknown>);
    }
    if ((body.raw_messages ?? []).length === 0 || page >= (body.pages ?? page)) return;
  }
}
