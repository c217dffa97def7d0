// What ingest counts, and its one logger. Bad input is counted per reason and logged at most a few
// times per reason per interval, so a misbehaving publisher cannot flood the log.

export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export const stderrLogger = (minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger => {
  const order = { debug: 0, info: 1, warn: 2, error: 3 };
  return (level, message) => {
    if (order[level] >= order[minLevel]) console.error(`ingest ${level}: ${message}`);
  };
};

export const silentLogger: Logger = () => {};

export class Counters {
  private readonly counts = new Map<string, number>();

  add(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
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

  constructor(private readonly capacity = 10_000) {}

  /** True when the key was already present; otherwise remembers it. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      // Sets iterate in insertion order: the first key is the oldest.
      const oldest = this.keys.values().next().value as string;
      this.keys.delete(oldest);
    }
    return false;
  }

  forget(key: string): void {
    this.keys.delete(key);
  }
}
