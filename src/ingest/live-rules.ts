// The rules ingest is running with, reloaded when the file changes or on SIGHUP. A bad edit is
// reported with file:line:column and the previous rules keep running: a typo never stops the CI.
import { readFileSync, stat, statSync, type Stats } from 'node:fs';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { loadRules, type RuleSet } from './rules.js';
import type { Logger } from './stats.js';

export class RulesLoadError extends Error {
  constructor(readonly diagnostics: string[]) {
    super(`invalid trigger rules:\n${diagnostics.join('\n')}`);
    this.name = 'RulesLoadError';
  }
}

/** What tells one state of the file from another: an edit (mtime, size) or a replacement (inode). */
function versionOf(stats: Stats | undefined): string {
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : 'absent';
}

function read(file: string): { value?: RuleSet; messages: string[]; failed: boolean; version: string } {
  // Taken before the read: a change during it shows as a new version at the next check.
  const version = versionOf(statSync(file, { throwIfNoEntry: false }));
  return { ...parse(file), version };
}

function parse(file: string): { value?: RuleSet; messages: string[]; failed: boolean } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { messages: [`${file}: cannot read: ${(error as Error).message}`], failed: true };
  }
  const result = loadRules(text, file);
  return { ...(result.value ? { value: result.value } : {}), messages: [...result.errors, ...result.warnings].map(formatDiagnostic), failed: !result.value };
}

export class LiveRules {
  private poller?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  /** How many times new rules were taken into use after the first load. */
  reloads = 0;

  private constructor(
    readonly file: string,
    private rules: RuleSet,
    private readonly log: Logger,
    /** The file's version when it was last read (valid or not). */
    private version: string,
  ) {}

  /** Loads the file; throws RulesLoadError when it is invalid (ingest must not start without rules). */
  static open(file: string, log: Logger): LiveRules {
    const { value, messages, failed, version } = read(file);
    if (failed || !value) throw new RulesLoadError(messages);
    for (const message of messages) log('warn', message);
    return new LiveRules(file, value, log, version);
  }

  get current(): RuleSet {
    return this.rules;
  }

  /** Re-reads the file; true when the new rules are in use, false when the old ones stay. */
  reload(why = 'reload requested'): boolean {
    const { value, messages, failed, version } = read(this.file);
    this.version = version;
    if (failed || !value) {
      for (const message of messages) this.log('error', message);
      this.log('error', `${this.file}: ${why}, but the file is invalid; still running the previous ${this.rules.rules.length} rule(s)`);
      return false;
    }
    for (const message of messages) this.log('warn', message);
    this.rules = value;
    this.reloads++;
    this.log('info', `${this.file}: ${why}: loaded ${value.rules.length} rule(s)`);
    return true;
  }

  /**
   * Watches the path by polling its status every `intervalMs`: a change of content, size or inode
   * since the last read is seen, so a file replaced by rename (editors, config management) is picked
   * up too, and so is a change made between the load and this call. Not an inotify watch of the
   * directory: that wakes ingest for every write to any file beside the rules (a database or log in
   * the same directory: several events per workflow start in the benchmark, ~0.7 ms of ingest's CPU
   * per start), where one stat per interval costs nothing measurable.
   */
  watch(debounceMs = 200, intervalMs = 500): void {
    this.poller = setInterval(() => {
      stat(this.file, (error, stats) => {
        if (!this.poller || versionOf(error ? undefined : stats) === this.version) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload('file changed'), debounceMs);
      });
    }, intervalMs);
  }

  close(): void {
    clearTimeout(this.timer);
    clearInterval(this.poller);
    this.poller = undefined;
  }
}
