// The options every command that talks to Temporal shares, so they are spelled the same everywhere.
// Nothing here loads the configuration (zod, yaml: ~0.25 s of CPU): a subcommand registers its
// options from this module alone, so its `--help` and usage errors answer without them; reading
// the configuration is options.ts's.
import type { Command } from 'commander';
import type { ConfigOverride } from '../config/load.js';

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

export function temporalOverrides(options: { address?: string; namespace?: string }): ConfigOverride[] {
  return overridesFrom([
    ['--address', options.address, 'temporal.address'],
    ['--namespace', options.namespace, 'temporal.namespace'],
  ]);
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got '${value}'`);
  return n;
}
