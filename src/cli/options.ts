// Options every command that talks to Temporal shares, so they are spelled the same everywhere,
// and the one way a command reads the configuration (taskotron.yaml < environment < options).
import type { Command } from 'commander';
import { configFile, loadConfig, ConfigError, type ConfigOverride, type ResolvedConfig } from '../config/load.js';
import { temporalSettings, type TemporalSettings } from '../config/temporal.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { configureLogging } from '../logging/log.js';

export const CONFIG_OPTION_HELP = 'taskotron.yaml or a trigger.cfg (default: $TASKOTRON_CONFIG, ./taskotron.yaml, /etc/taskotron/taskotron.yaml)';

export function addConfigOption(command: Command): Command {
  return command.option('--config <file>', CONFIG_OPTION_HELP);
}

export function addTemporalOptions(command: Command): Command {
  return addConfigOption(command)
    .option('--address <host:port>', 'Temporal frontend address (temporal.address; env TEMPORAL_ADDRESS; default 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (temporal.namespace; env TEMPORAL_NAMESPACE; default "default")');
}

/** `[option value, setting]` pairs: the options given become overrides of those settings. */
export function overridesFrom(pairs: ReadonlyArray<readonly [string, unknown, string]>): ConfigOverride[] {
  return pairs.filter(([, value]) => value !== undefined).map(([option, value, path]) => ({ option, value, path }));
}

/** The configuration a command runs with; warnings go to stderr, errors throw ConfigError (main prints them). */
export function configFromOptions(options: { config?: string }, overrides: readonly ConfigOverride[] = []): ResolvedConfig {
  const loaded = loadConfig({ file: configFile(options.config), overrides });
  for (const warning of loaded.warnings) console.error(formatDiagnostic(warning));
  if (!loaded.value) throw new ConfigError(loaded.errors);
  // logging.level/format of taskotron.yaml (or TASKOTRON_LOG_*), for this process's one logger.
  configureLogging(loaded.value.logging);
  return loaded.value;
}

export function temporalOverrides(options: { address?: string; namespace?: string }): ConfigOverride[] {
  return overridesFrom([
    ['--address', options.address, 'temporal.address'],
    ['--namespace', options.namespace, 'temporal.namespace'],
  ]);
}

export function temporalSettingsFromOptions(options: { config?: string; address?: string; namespace?: string }): TemporalSettings {
  return temporalSettings(configFromOptions(options, temporalOverrides(options)).temporal);
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got '${value}'`);
  return n;
}
