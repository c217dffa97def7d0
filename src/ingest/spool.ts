// A durable FIFO of matched messages on local disk, for when Temporal is unreachable longer than the
// in-memory queue can bridge. JSON lines in numbered segment files; a segment is deleted only after
// every entry in it was started, so a crash replays at most one segment (Temporal's workflow IDs
// turn those replays into no-ops).
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT = /^spool-(\d{12})\.jsonl$/;

export class Spool<T> {
  private writeSegment: number;
  private writeCount = 0;
  /** Entries of the oldest segment not yet handed out, and which segment they came from. */
  private reading?: { segment: number; entries: T[]; next: number; outstanding: number };
  private size: number;

  constructor(
    readonly dir: string,
    private readonly segmentEntries = 1000,
  ) {
    mkdirSync(dir, { recursive: true });
    const segments = this.segments();
    this.writeSegment = (segments.at(-1) ?? 0) + 1;
    this.size = segments.reduce((n, s) => n + this.readSegment(s).length, 0);
  }

  private segments(): number[] {
    return readdirSync(this.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  private file(segment: number): string {
    return join(this.dir, `spool-${String(segment).padStart(12, '0')}.jsonl`);
  }

  private readSegment(segment: number): T[] {
    const file = this.file(segment);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as T];
        } catch {
          // A torn last line from a crash mid-write: the message before it is intact.
          return [];
        }
      });
  }

  /** Entries on disk not yet taken out. */
  get length(): number {
    return this.size;
  }

  /** Appends and fsyncs: once this returns, the entry survives a crash. */
  append(entries: readonly T[]): void {
    if (entries.length === 0) return;
    if (this.writeCount >= this.segmentEntries || (this.reading && this.reading.segment === this.writeSegment)) {
      this.writeSegment++;
      this.writeCount = 0;
    }
    const file = this.file(this.writeSegment);
    appendFileSync(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const fd = openSync(file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.writeCount += entries.length;
    this.size += entries.length;
  }

  /** Takes up to `max` entries (oldest first); each must be `done()` before its segment is deleted. */
  take(max: number): Array<{ entry: T; done: () => void }> {
    const out: Array<{ entry: T; done: () => void }> = [];
    while (out.length < max) {
      if (!this.reading || this.reading.next >= this.reading.entries.length) {
        const next = this.segments().find((s) => !this.reading || s > this.reading.segment);
        if (next === undefined) break;
        // Never read the segment still being written: start a new one for later appends.
        if (next === this.writeSegment) {
          this.writeSegment++;
          this.writeCount = 0;
        }
        this.reading = { segment: next, entries: this.readSegment(next), next: 0, outstanding: 0 };
        if (this.reading.entries.length === 0) {
          rmSync(this.file(next), { force: true });
          continue;
        }
      }
      const reading = this.reading;
      const entry = reading.entries[reading.next++]!;
      reading.outstanding++;
      this.size--;
      let finished = false;
      out.push({
        entry,
        done: () => {
          if (finished) return;
          finished = true;
          reading.outstanding--;
          if (reading.outstanding === 0 && reading.next >= reading.entries.length) rmSync(this.file(reading.segment), { force: true });
        },
      });
    }
    return out;
  }
}
