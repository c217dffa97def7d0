// Options every command that talks to Temporal shares, so they are spelled the same everywhere.
import type { Command } from 'commander';
import { temporalSettingsFromEnv, type TemporalSettings } from '../config/temporal.js';

export function addTemporalOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend address (env TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")');
}

export function temporalSettingsFromOptions(options: { address?: string; namespace?: string }): TemporalSettings {
  return temporalSettingsFromEnv(process.env, {
    ...(options.address ? { address: options.address } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
  });
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got '${value}'`);
  return n;
}
