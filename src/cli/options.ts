// The one way a command reads the configuration (taskotron.yaml < environment < options). The
// options themselves are option-defs.ts's.
import { configFile, loadConfig, ConfigError, type ConfigOverride, type ResolvedConfig } from '../config/load.js';
import { temporalSettings, type TemporalSettings } from '../config/temporal.js';
import { temporalOverrides } from './option-defs.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import { configureLogging } from '../logging/log.js';

/** The configuration a command runs with; warnings go to stderr, errors throw ConfigError (main prints them). */
export function configFromOptions(options: { config?: string }, overrides: readonly ConfigOverride[] = []): ResolvedConfig {
  const loaded = loadConfig({ file: configFile(options.config), overrides });
  for (const warning of loaded.warnings) console.error(formatDiagnostic(warning));
  if (!loaded.value) throw new ConfigError(loaded.errors);
  // logging.level/format of taskotron.yaml (or TASKOTRON_LOG_*), for this process's one logger.
  configureLogging(loaded.value.logging);
  return loaded.value;
}

export function temporalSettingsFromOptions(options: { config?: string; address?: string; namespace?: string }): TemporalSettings {
  return temporalSettings(configFromOptions(options, temporalOverrides(options)).temporal);
}
