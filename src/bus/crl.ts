// Where fedmsg's CA and CRL come from. fedmsg's `crl_location` is a URL
// (https://fedoraproject.org/fedmsg/crl.pem), cached on disk in `crl_cache` and fetched again after
// `crl_cache_expiry` seconds; `ca_cert_location` works the same way with `ca_cert_cache(_expiry)`
// (expiry 0: never fetched again). A file path is still accepted and is read again on the same
// schedule. A CRL is also fetched again ahead of its own `nextUpdate`, so a CRL that is replaced on
// time never goes stale here. Fetches run in the background: messages are checked against whatever
// was last loaded, never wait for the network, and a failed fetch keeps the old copy and retries
// with backoff.
import { EventEmitter } from 'node:events';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The shape of ingest's logger, so the message layer needs nothing from ingest. */
export type BusLogger = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** `http://` and `https://` locations are fetched; anything else is a file. */
export const isUrl = (location: string): boolean => /^https?:\/\//i.test(location);

// A CA bundle or a CRL the size of Fedora's is kilobytes; this only stops a hostile server from
// filling memory.
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
// setTimeout takes at most 2^31-1 ms; a day is plenty between looks at a file or URL anyway.
const MAX_TIMER_MS = 86_400_000;

async function fetchLocation(location: string, timeoutMs: number): Promise<Buffer> {
  if (!isUrl(location)) return readFile(location);
  const response = await fetch(location, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${location}: HTTP ${response.status} ${response.statusText}`);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel();
    throw new Error(`${location}: ${declared} bytes, more than ${MAX_DOCUMENT_BYTES}`);
  }
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > MAX_DOCUMENT_BYTES) throw new Error(`${location}: ${body.length} bytes, more than ${MAX_DOCUMENT_BYTES}`);
  return body;
}

/** Write-then-rename: a reader (or a crash) sees the old cache or the new one, never half of one. */
export function writeFileAtomically(file: string, data: Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o644);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

export interface TrustFileOptions<T> {
  /** `ca` or `crl`: names the counters (`crl.refreshed`, `crl.refresh-failed`, …) and log lines. */
  what: 'ca' | 'crl';
  location: string;
  /** Where a fetched copy is kept (URL locations only): loaded when the URL cannot be reached at start. */
  cacheFile?: string;
  /** Parses and checks what was read; throws when it is unusable (the old copy is kept). */
  parse(data: Buffer): T;
  /** Milliseconds after a successful load until the next one; undefined: never. */
  refreshAfterMs(value: T, now: number): number | undefined;
  /** True when what was just loaded is already out of date (a CRL past its nextUpdate): retried like a failure. */
  outdated?(value: T, now: number): boolean;
  log: BusLogger;
  count(name: string): void;
  timeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

/**
 * One CA bundle or CRL, kept current in the background. Emits `loaded` (value) after each good load
 * and `failed` (error) after each failed one, which is what tests wait on.
 */
export class TrustFile<T> extends EventEmitter {
  current: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: TrustFileOptions<T>) {
    super();
    this.now = options.now ?? Date.now;
  }

  /**
   * The first load, awaited at start. A URL that cannot be fetched falls back to the cache file; with
   * neither, `current` stays undefined (the checker's stale policy applies) and fetching is retried.
   */
  async open(): Promise<this> {
    const loaded = await this.load();
    if (!loaded && this.current === undefined && this.options.cacheFile && isUrl(this.options.location)) {
      try {
        this.current = this.options.parse(readFileSync(this.options.cacheFile));
        this.options.count(`${this.options.what}.from-cache`);
        this.options.log('warn', `${this.options.what}: using the cached copy ${this.options.cacheFile} until ${this.options.location} answers`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.log('warn', `${this.options.what}: cached copy ${this.options.cacheFile} unusable: ${(error as Error).message}`);
      }
    }
    return this;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** One fetch (or file read), then the next one scheduled. True when it loaded something current. */
  private async load(): Promise<boolean> {
    const { what, location } = this.options;
    let value: T;
    let data: Buffer;
    try {
      data = await fetchLocation(location, this.options.timeoutMs ?? 30_000);
      value = this.options.parse(data);
    } catch (error) {
      this.failed(error as Error);
      return false;
    }
    if (this.closed) return false;
    const now = this.now();
    this.current = value;
    if (this.options.cacheFile && isUrl(location)) {
      try {
        writeFileAtomically(this.options.cacheFile, data);
      } catch (error) {
        this.options.log('warn', `${what}: cannot write the cache ${this.options.cacheFile}: ${(error as Error).message}`);
      }
    }
    if (this.options.outdated?.(value, now)) {
      // Loaded (a stale CRL still lists what it revoked) but not good enough: try again soon.
      this.failed(new Error(`${location} serves an out-of-date ${what}`), 'outdated');
      this.emit('loaded', value);
      return false;
    }
    this.failures = 0;
    this.options.count(`${what}.refreshed`);
    this.options.log('debug', `${what}: loaded ${location}`);
    const after = this.options.refreshAfterMs(value, now);
    if (after !== undefined) this.schedule(after);
    this.emit('loaded', value);
    return true;
  }

  private failed(error: Error, counter = 'refresh-failed'): void {
    if (this.closed) return;
    this.failures++;
    const { what, location } = this.options;
    this.options.count(`${what}.${counter}`);
    const delay = Math.min((this.options.minBackoffMs ?? 1000) * 2 ** Math.min(this.failures - 1, 20), this.options.maxBackoffMs ?? 300_000);
    const keeping = this.current === undefined ? 'none loaded yet' : 'keeping the copy loaded before';
    this.options.log(this.failures === 1 || this.failures % 10 === 0 ? 'warn' : 'debug', `${what}: ${location}: ${error.message}; ${keeping}; next try in ${Math.round(delay / 1000)}s (failure ${this.failures})`);
    this.schedule(delay);
    this.emit('failed', error);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), Math.max(0, Math.min(delayMs, MAX_TIMER_MS)));
    // Never what keeps a process alive.
    this.timer.unref();
  }
}

/**
 * When a CRL is fetched again: after `crl_cache_expiry`, and before its nextUpdate — half the time
 * left, at most five minutes early — so a CRL the CA replaces on time is replaced here on time too.
 */
export function crlRefreshAfterMs(nextUpdate: Date | undefined, expirySeconds: number, now: number): number {
  let delay = expirySeconds > 0 ? expirySeconds * 1000 : MAX_TIMER_MS;
  if (nextUpdate) {
    const left = nextUpdate.getTime() - now;
    delay = Math.min(delay, left - Math.min(left / 2, 300_000));
  }
  // A CRL whose nextUpdate is less than a second away is not fetched in a busy loop.
  return Math.max(delay, 1000);
}
