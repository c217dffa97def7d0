// `taskotron config show`: every effective setting, its value and where it came from (default,
// file:line, env VAR, option), so an operator can tell why a process does what it does.
import type { Command } from 'commander';
import { configFile, configLeaves, describeSource, loadConfig, valueAt, ConfigError, type Source } from '../config/load.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { CONFIG_OPTION_HELP } from './option-defs.js';

export interface ShownSetting {
  key: string;
  value: unknown;
  source: Source;
}

/** Secrets never leave the process in full: API keys entirely, passwords inside URLs. */
export function redact(key: string, value: unknown, secret: boolean): unknown {
  if (value === undefined) return value;
  if (secret) return '********';
  if (typeof value === 'string') return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@/\s]+@/i, '$1:********@');
  return value;
}

export function shownSettings(file: string | undefined, env: NodeJS.ProcessEnv = process.env): { settings: ShownSetting[]; file?: string; warnings: string[] } {
  const loaded = loadConfig({ ...(file !== undefined ? { file } : {}), env });
  if (!loaded.value) throw new ConfigError(loaded.errors);
  const settings = configLeaves().map((leaf) => {
    const key = leaf.path.join('.');
    return { key, value: redact(key, valueAt(loaded.value!, leaf.path), leaf.secret), source: loaded.sources.get(key) ?? { kind: 'default' as const } };
  });
  return { settings, ...(loaded.file !== undefined ? { file: loaded.file } : {}), warnings: loaded.warnings.map(formatDiagnostic) };
}

function display(value: unknown): string {
  if (value === undefined) return '(unset)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function registerConfig(program: Command): void {
  const config = program.command('config');
  config
    .command('show')
    .description('print every effective setting and where its value came from: default, file:line, env VAR')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--json', 'print a JSON array of {key, value, source}')
    .action((options: { config?: string; json?: boolean }) => {
      const shown = shownSettings(configFile(options.config));
      for (const warning of shown.warnings) console.error(warning);
      if (options.json) {
        console.log(JSON.stringify(shown.settings, null, 2));
        return;
      }
      console.log(`# configuration file: ${shown.file ?? 'none (defaults and environment)'}`);
      const width = Math.max(...shown.settings.map((s) => s.key.length));
      const valueWidth = Math.min(48, Math.max(...shown.settings.map((s) => display(s.value).length)));
      for (const s of shown.settings) console.log(`${s.key.padEnd(width)}  ${display(s.value).padEnd(valueWidth)}  ${describeSource(s.source)}`);
    });
}
