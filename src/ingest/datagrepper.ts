// Reading the bus's history from a datagrepper-compatible `/raw` endpoint (reference §3.4): what
// fedmsg's own consumers did after a restart, and what `taskotron replay --datagrepper` does.
// Pages in ascending time order, rate-limited, each request retried a few times on failure.
import { datagrepperPage, type RecordedMessage } from '../bus/envelope.js';

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
  /** Tries per page before giving up (default 5; Infinity for a backfill that must not lose a window). */
  attempts?: number;
  /** Backoff between tries: doubles from `min` to `max` (default 2 s to 30 s). */
  retryMs?: { min: number; max: number };
  /** Told of each failed try, before the wait (counters, logs). */
  onRetry?: (error: Error, page: number, delayMs: number) => void;
  signal?: AbortSignal;
}


const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * Yields the messages of [start, end], oldest first, page by page. Pages are parsed keeping number
 * lexemes, so a signed message's `1504643044.0` still verifies (recordsFromText).
 */
export async function* datagrepperMessages(url: string, query: DatagrepperQuery): AsyncGenerator<RecordedMessage> {
  const rows = query.rowsPerPage ?? 100;
  const gap = 1000 / (query.ratePerSecond ?? 2);
  // Monotonic milliseconds (performance.now): a wall clock set back or forward must not stretch or
  // skip the limit.
  let lastRequest = -Infinity;
  for (let page = 1; ; page++) {
    const params = new URLSearchParams({ start: String(query.start), end: String(query.end), order: 'asc', rows_per_page: String(rows), page: String(page) });
    for (const topic of query.topics ?? []) params.append('topic', topic);
    const target = `${url}${url.includes('?') ? '&' : '?'}${params}`;
    let body: { records: RecordedMessage[]; pages?: number } | undefined;
    const attempts = query.attempts ?? 5;
    for (let attempt = 1; body === undefined; attempt++) {
      // Checked again after each sleep: a timer counts whole milliseconds and may end a fraction early.
      for (let wait = lastRequest + gap - performance.now(); wait > 0; wait = lastRequest + gap - performance.now()) {
        await sleep(wait, query.signal);
        if (query.signal?.aborted) return;
      }
      if (query.signal?.aborted) return;
      try {
        const sending = fetch(target, { signal: query.signal ?? null, headers: { accept: 'application/json' } });
        // Read once the request is handed over, not before: the next one then leaves at least `gap`
        // after this one did, however long this process was held up between the two lines.
        lastRequest = performance.now();
        const response = await sending;
        if (!response.ok) throw new Error(`HTTP ${response.status} from ${target}`);
        body = datagrepperPage(await response.text());
      } catch (error) {
        if (query.signal?.aborted) return;
        if (attempt >= attempts) throw new Error(`datagrepper page ${page} failed ${attempts} times: ${(error as Error).message}`);
        const retry = query.retryMs ?? { min: 2000, max: 30_000 };
        const delay = Math.min(retry.min * 2 ** (attempt - 1), retry.max);
        query.onRetry?.(error as Error, page, delay);
        await sleep(delay, query.signal);
      }
    }
    for (const record of body.records) {
      const { envelope } = record;
      if (typeof envelope === 'object' && envelope !== null && !Array.isArray(envelope)) yield record;
    }
    if (body.records.length === 0 || page >= (body.pages ?? page)) return;
  }
}
