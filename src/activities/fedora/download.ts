// Downloads a runner can trust: streamed to disk (a 2 GB RPM never sits in memory), written under a
// temporary name and renamed into place only when complete, its size checked against what the
// server and Koji said, retried with backoff when the service or the network fails, and kept in a
// per-host cache that every job on the host shares.
import { createHash, randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { TransientError, USER_AGENT, httpFailure, withRetries, type RetryContext } from './http.js';

/** What a directive reports in its heartbeat details, so the Web UI shows a download moving. */
export interface DownloadProgress {
  filesTotal: number;
  filesDone: number;
  bytesTotal: number;
  bytesDone: number;
  /** From the cache instead of the network. */
  filesCached: number;
  current?: string;
  retries: number;
}

export function newProgress(): DownloadProgress {
  return { filesTotal: 0, filesDone: 0, bytesTotal: 0, bytesDone: 0, filesCached: 0, retries: 0 };
}

export interface FetchOptions extends RetryContext {
  /** The size the file must have (Koji's `size`); a different one is a failed download. */
  expectedSize?: number;
  progress?: DownloadProgress;
  /** Short name of what is fetched, for messages ("koji build foo-1-1.fc40: foo-1-1.fc40.x86_64.rpm"). */
  what?: string;
}

/**
 * GET `url` into `dest`, atomically: the bytes go to a private temporary file next to `dest` and are
 * renamed over it only once complete and of the right size, so a reader never sees half a file and
 * two writers of the same file cannot interleave. Returns the number of bytes.
 */
export async function downloadFile(url: string, dest: string, options: FetchOptions = {}): Promise<number> {
  const what = options.what ?? basename(dest);
  await mkdir(dirname(dest), { recursive: true });
  return withRetries(
    async () => {
      const temp = `${dest}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
      let counted = 0;
      // A server that stops sending without closing would hold the job until its time limit: a
      // transfer with no byte for STALL_TIMEOUT_MS is abandoned and retried.
      const stall = new AbortController();
      const stallMs = options.retry?.stallTimeoutMs ?? STALL_TIMEOUT_MS;
      const stallTimer = setTimeout(() => stall.abort(new TransientError(`${what}: no data from ${url} for ${stallMs / 1000} s`)), stallMs);
      const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
      try {
        const response = await fetch(url, { headers: { 'User-Agent': USER_AGENT }, signal, redirect: 'follow' });
        if (!response.ok || !response.body) {
          await response.body?.cancel();
          throw httpFailure(response.status, what, url);
        }
        const declared = response.headers.get('content-length');
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            stallTimer.refresh();
            counted += chunk.length;
            if (options.progress) options.progress.bytesDone += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), counter, createWriteStream(temp));
        if (declared !== null && Number(declared) !== counted) {
          throw new TransientError(`${what}: truncated download from ${url} (${counted} of ${declared} bytes)`);
        }
        if (options.expectedSize !== undefined && options.expectedSize !== counted) {
          throw new TransientError(`${what}: ${url} gave ${counted} bytes, Koji says the file has ${options.expectedSize}`);
        }
        await rename(temp, dest);
        return counted;
      } catch (error) {
        if (options.progress) options.progress.bytesDone -= counted;
        await unlink(temp).catch(() => undefined);
        if (stall.signal.aborted && !options.signal?.aborted) throw stall.signal.reason as Error;
        throw error;
      } finally {
        clearTimeout(stallTimer);
      }
    },
    {
      ...options,
      onRetry: (error, attempt, delayMs) => {
        if (options.progress) options.progress.retries += 1;
        options.onRetry?.(error, attempt, delayMs);
      },
    },
  );
}

/** No byte for this long and a transfer is abandoned (and retried). */
export const STALL_TIMEOUT_MS = 60_000;

export interface CacheSettings {
  dir: string;
  maxSize: number;
}

/**
 * The per-host download cache: files keyed by URL and the identity Koji gives them (size and header
 * digest), so a rebuilt file under the same name is never served stale. Entries appear by atomic
 * rename only; the same file wanted twice at once in this process is fetched once, and two processes
 * racing for it each write their own temporary file and the last rename wins with identical bytes.
 * Bounded: after each addition the least recently used entries go until the cache fits `maxSize`.
 * Jobs get a copy (a reflink where the filesystem can), so a task that edits its RPMs cannot poison
 * the cache for the next job.
 */
export class DownloadCache {
  private readonly inflight = new Map<string, Promise<void>>();
  private evicting: Promise<void> = Promise.resolve();

  constructor(private readonly settings: CacheSettings) {}

  entryPath(url: string, identity: string): string {
    const key = createHash('sha256').update(`${url}\0${identity}`).digest('hex').slice(0, 24);
    return join(this.settings.dir, `${key}-${basename(new URL(url).pathname)}`);
  }

  /** Puts the file at `dest`, from the cache when it has it; returns whether it came from the cache. */
  async fetch(url: string, dest: string, identity: string, options: FetchOptions & { expectedSize: number }): Promise<{ cached: boolean; bytes: number }> {
    if (options.expectedSize > this.settings.maxSize) {
      return { cached: false, bytes: await downloadFile(url, dest, options) };
    }
    const entry = this.entryPath(url, identity);
    if (await this.has(entry, options.expectedSize)) {
      if (await this.copyOut(entry, dest)) {
        if (options.progress) {
          options.progress.bytesDone += options.expectedSize;
          options.progress.filesCached += 1;
        }
        return { cached: true, bytes: options.expectedSize };
      }
    }
    let pending = this.inflight.get(entry);
    const mine = !pending;
    if (!pending) {
      pending = (async () => {
        await mkdir(this.settings.dir, { recursive: true });
        await downloadFile(url, entry, options);
      })().finally(() => this.inflight.delete(entry));
      this.inflight.set(entry, pending);
    }
    await pending;
    if (!mine && options.progress) options.progress.bytesDone += options.expectedSize;
    // Evicted by another job between download and copy (a tiny cache under pressure): fetch directly.
    if (!(await this.copyOut(entry, dest))) return { cached: false, bytes: await downloadFile(url, dest, options) };
    await this.evict(entry);
    return { cached: !mine, bytes: options.expectedSize };
  }

  private async has(entry: string, size: number): Promise<boolean> {
    try {
      const info = await stat(entry);
      if (info.size !== size) return false;
      const now = new Date();
      await utimes(entry, now, now);
      return true;
    } catch {
      return false;
    }
  }

  private async copyOut(entry: string, dest: string): Promise<boolean> {
    await mkdir(dirname(dest), { recursive: true });
    const temp = `${dest}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await copyFile(entry, temp, constants.COPYFILE_FICLONE);
      await rename(temp, dest);
      return true;
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Oldest-used first until the cache fits; one eviction at a time in this process. */
  async evict(keep?: string): Promise<void> {
    const run = this.evicting.then(async () => {
      const names = await readdir(this.settings.dir).catch(() => [] as string[]);
      const entries: { path: string; size: number; used: number }[] = [];
      for (const name of names) {
        if (name.includes('.part-')) continue;
        const path = join(this.settings.dir, name);
        const info = await stat(path).catch(() => undefined);
        if (info?.isFile()) entries.push({ path, size: info.size, used: info.mtimeMs });
      }
      let total = entries.reduce((sum, e) => sum + e.size, 0);
      entries.sort((a, b) => a.used - b.used);
      for (const e of entries) {
        if (total <= this.settings.maxSize) break;
        if (e.path === keep) continue;
        await unlink(e.path).catch(() => undefined);
        total -= e.size;
      }
    });
    this.evicting = run.catch(() => undefined);
    await run;
  }
}

/** One cache object per directory in this process, so concurrent jobs share its in-flight map. */
const caches = new Map<string, DownloadCache>();
export function sharedCache(settings: CacheSettings): DownloadCache {
  let cache = caches.get(settings.dir);
  if (!cache) {
    cache = new DownloadCache(settings);
    caches.set(settings.dir, cache);
  }
  return cache;
}
