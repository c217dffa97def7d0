// The rules ingest is running with, reloaded when the file changes or on SIGHUP. A bad edit is
// reported with file:line:column and the previous rules keep running: a typo never stops the CI.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { loadRules, type RuleSet } from './rules.js';
import type { Logger } from './stats.js';

export class RulesLoadError extends Error {
  constructor(readonly diagnostics: string[]) {
    super(`invalid trigger rules:\n${diagnostics.join('\n')}`);
    this.name = 'RulesLoadError';
  }
}

function read(file: string): { value?: RuleSet; messages: string[]; failed: boolean } {
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
  private onStat?: (now: Stats, before: Stats) => void;
  private timer?: NodeJS.Timeout;
  /** How many times new rules were taken into use after the first load. */
  reloads = 0;

  private constructor(
    readonly file: string,
    private rules: RuleSet,
    private readonly log: Logger,
  ) {}

  /** Loads the file; throws RulesLoadError when it is invalid (ingest must not start without rules). */
  static open(file: string, log: Logger): LiveRules {
    const { value, messages, failed } = read(file);
    if (failed || !value) throw new RulesLoadError(messages);
    for (const message of messages) log('warn', message);
    return new LiveRules(file, value, log);
  }

  get current(): RuleSet {
    return this.rules;
  }

  /** Re-reads the file; true when the new rules are in use, false when the old ones stay. */
  reload(why = 'reload requested'): boolean {
    const { value, messages, failed } = read(this.file);
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
   * Watches the path by polling its status (`fs.watchFile`): a change of content, size or inode is
   * seen, so a file replaced by rename (editors, config management) is picked up too. Not an inotify
   * watch of the directory: that wakes ingest for every write to any file beside the rules (a
   * database or log in the same directory: several events per workflow start in the benchmark,
   * ~0.7 ms of ingest's CPU per start), where one stat per interval costs nothing measurable.
   */
  watch(debounceMs = 200, intervalMs = 500): void {
    this.onStat = (now: Stats, before: Stats) => {
      // Only its access time or owner changed: the rules did not.
      if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload('file changed'), debounceMs);
    };
    watchFile(this.file, { interval: intervalMs }, this.onStat);
  }

  close(): void {
    clearTimeout(this.timer);
    if (this.onStat) unwatchFile(this.file, this.onStat);
    this.onStat = undefined;
  }
}
