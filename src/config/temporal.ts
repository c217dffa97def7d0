// Where the Temporal server is and how to talk to it. Production points this at any cluster;
// the defaults are the loopback dev server that `npm start` runs.
import { readFileSync } from 'node:fs';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Temporal Cloud or any server that authenticates with an API key (implies TLS). */
  apiKey?: string;
  tls?: { serverRootCACertificate?: Buffer; clientCert?: Buffer; clientKey?: Buffer } | true;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

/** Reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_{CA,CERT,KEY} (file paths). */
export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<TemporalSettings> = {}): TemporalSettings {
  const settings: TemporalSettings = {
    address: env.TEMPORAL_ADDRESS || DEFAULT_TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE,
  };
  if (env.TEMPORAL_API_KEY) settings.apiKey = env.TEMPORAL_API_KEY;
  const ca = env.TEMPORAL_TLS_CA;
  const cert = env.TEMPORAL_TLS_CERT;
  const key = env.TEMPORAL_TLS_KEY;
  if (ca || cert || key) {
    if (Boolean(cert) !== Boolean(key)) {
      throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (mutual TLS needs both)');
    }
    settings.tls = {
      ...(ca ? { serverRootCACertificate: readFileSync(ca) } : {}),
      ...(cert && key ? { clientCert: readFileSync(cert), clientKey: readFileSync(key) } : {}),
    };
  }
  return { ...settings, ...overrides };
}

/** The options both `Connection.connect` and `NativeConnection.connect` accept. */
export function connectionOptions(settings: TemporalSettings) {
  const tls = settings.tls === true ? true : settings.tls
    ? {
        ...(settings.tls.serverRootCACertificate ? { serverRootCACertificate: settings.tls.serverRootCACertificate } : {}),
        ...(settings.tls.clientCert && settings.tls.clientKey
          ? { clientCertPair: { crt: settings.tls.clientCert, key: settings.tls.clientKey } }
          : {}),
      }
    : undefined;
  return {
    address: settings.address,
    ...(settings.apiKey ? { apiKey: settings.apiKey, tls: tls ?? true } : tls ? { tls } : {}),
  };
}
