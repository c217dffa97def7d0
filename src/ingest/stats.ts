// What ingest counts, and how it logs. Bad input is counted per reason and logged at most a few
// times per reason per interval, so a misbehaving publisher cannot flood the log.
import { logger } from '../logging/log.js';

/** Ingest's logging seam: the product logger in production (`stderrLogger`), nothing in benchmarks. */
export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** The product's one logger (src/logging/log.ts), component `ingest`; `debug` turns on --verbose detail. */
export const stderrLogger = (minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger => {
  const log = logger('ingest');
  if (minLevel === 'debug') log.level = 'debug';
  return (level, message, fields) => {
    if (fields) log[level](fields, message);
    else log[level](message);
  };
};

export const silentLogger: Logger = () => {};

export class Counters {
  // A plain object with few, stable keys: cheaper per message than a Map.
  private readonly counts: Record<string, number> = Object.create(null) as Record<string, number>;

  add(name: string, by = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + by;
  }

  get(name: string): number {
    return this.counts[name] ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.counts).sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** Logs at most `burst` lines per key per `intervalMs`, then one summary of what it suppressed. */
export class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly burst = 5,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, message: string): void {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.intervalMs) {
      if (window && window.suppressed > 0) this.log('warn', `${window.suppressed} more '${key}' message(s) suppressed`);
      window = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.logged < this.burst) {
      window.logged++;
      this.log('warn', message);
    } else {
      window.suppressed++;
    }
  }
}

/** A bounded set of recently seen keys: saves round trips for redelivered messages (not the real guard). */
export class RecentKeys {
  private readonly keys = new Set<string>();
  // Insertion order in a ring: evicting the oldest is O(1) (deleting from the front of a Set and
  // asking it for its first value again walks over the deleted entries).
  private readonly ring: Array<string | undefined>;
  private next = 0;

  constructor(private readonly capacity = 10_000) {
    this.ring = new Array<string | undefined>(Math.max(1, capacity));
  }

  /** True when the key was already present; otherwise remembers it. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.keys.delete(evicted);
    this.ring[this.next] = key;
    this.next = (this.next + 1) % this.ring.length;
    this.keys.add(key);
    return false;
  }

  forget(key: string): void {
    // The ring slot stays; deleting a key that is gone again later is harmless.
    this.keys.delete(key);
  }
}
