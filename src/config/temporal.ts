// Where the Temporal server is and how to talk to it: the `temporal` section of taskotron.yaml
// (TEMPORAL_ADDRESS etc. override it). Production points it at any cluster; the defaults are the
// loopback dev server that `npm start` runs.
import { readFileSync } from 'node:fs';
import { configFile, readConfig } from './load.js';
import type { TaskotronConfig } from './schema.js';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Temporal Cloud or any server that authenticates with an API key (implies TLS). */
  apiKey?: string;
  tls?: { serverRootCACertificate?: Buffer; clientCert?: Buffer; clientKey?: Buffer; serverNameOverride?: string } | true;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

/** The connection settings of the `temporal` section: reads the TLS and API key files it names. */
export function temporalSettings(temporal: TaskotronConfig['temporal']): TemporalSettings {
  const settings: TemporalSettings = { address: temporal.address, namespace: temporal.namespace };
  if (temporal.api_key) settings.apiKey = temporal.api_key;
  if (temporal.api_key_file) settings.apiKey = readFileSync(temporal.api_key_file, 'utf8').trim();
  const tls = temporal.tls;
  if (tls) {
    settings.tls = {
      ...(tls.ca ? { serverRootCACertificate: readFileSync(tls.ca) } : {}),
      ...(tls.cert && tls.key ? { clientCert: readFileSync(tls.cert), clientKey: readFileSync(tls.key) } : {}),
      ...(tls.server_name ? { serverNameOverride: tls.server_name } : {}),
    };
  }
  return settings;
}

/** The configuration's Temporal settings (file from $TASKOTRON_CONFIG or the usual places), with `overrides` over them. */
export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<TemporalSettings> = {}): TemporalSettings {
  return { ...temporalSettings(readConfig({ file: configFile(undefined, env), env }).temporal), ...overrides };
}

/** The options both `Connection.connect` and `NativeConnection.connect` accept. */
export function connectionOptions(settings: TemporalSettings) {
  const tls = settings.tls === true ? true : settings.tls
    ? {
        ...(settings.tls.serverRootCACertificate ? { serverRootCACertificate: settings.tls.serverRootCACertificate } : {}),
        ...(settings.tls.clientCert && settings.tls.clientKey
          ? { clientCertPair: { crt: settings.tls.clientCert, key: settings.tls.clientKey } }
          : {}),
        ...(settings.tls.serverNameOverride ? { serverNameOverride: settings.tls.serverNameOverride } : {}),
      }
    : undefined;
  return {
    address: settings.address,
    ...(settings.apiKey ? { apiKey: settings.apiKey, tls: tls ?? true } : tls ? { tls } : {}),
  };
}
