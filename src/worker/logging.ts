// The Temporal SDK's runtime, installed once per process: its logs (core, worker, workflow and
// activity loggers) go through the product's one logger (src/logging/log.ts), and its metrics, when
// asked, to a Prometheus exporter on a loopback port that our own /metrics endpoint folds in.
import { Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger } from '@temporalio/worker';
import { errorFields, logger, type Logger } from '../logging/log.js';

// A runner runs a workflow-only worker and activity-only workers by design (runner-worker.ts), so the
// SDK's "nothing registered, not polling" warnings say nothing an operator needs to act on.
const EXPECTED = [/^No activities registered, not polling/, /^No workflows registered, not polling/];

const ORDER: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

/** Metadata the SDK attaches that an operator filters on; the rest (e.g. timestampNanos) is dropped. */
const KEPT = ['namespace', 'taskQueue', 'workflowId', 'runId', 'workflowType', 'activityId', 'activityType', 'attempt', 'durationMs', 'sdkComponent', 'host', 'reason', 'target'];

/** Temporal's Logger interface on top of ours; `level` is the SDK's own threshold. */
export class TemporalLogBridge implements TemporalLogger {
  private readonly target: Logger;

  constructor(
    private readonly level: LogLevel,
    target?: Logger,
  ) {
    this.target = target ?? logger('temporal');
  }

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if (ORDER[level] < ORDER[this.level] || EXPECTED.some((pattern) => pattern.test(message))) return;
    const fields: Record<string, unknown> = {};
    for (const key of KEPT) if (meta[key] !== undefined) fields[key] = meta[key];
    // A formula action runs as activity `<n>-<directive>`: name it as the action it is.
    if (typeof meta.activityId === 'string' && /^\d+-/.test(meta.activityId)) fields.action = meta.activityId;
    Object.assign(fields, errorFields(meta.error ?? meta.failure));
    const method = level === 'TRACE' ? 'trace' : level === 'DEBUG' ? 'debug' : level === 'INFO' ? 'info' : level === 'WARN' ? 'warn' : 'error';
    this.target[method](fields, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface RuntimeSettings {
  /** The SDK's log threshold. */
  logLevel: LogLevel;
  /** Bind Temporal core's Prometheus exporter here (host:port), e.g. a free loopback port. */
  prometheusBindAddress?: string;
  /**
   * By default the runtime turns SIGINT/SIGTERM into a shutdown of every worker; `false` leaves the
   * signals to the caller (runtask cancels its job first and stops its worker after).
   */
  handleSignals?: boolean;
}

let installed: RuntimeSettings | undefined;

/** Installs the Temporal runtime once per process; later calls keep the first settings. */
export function installRuntime(settings: RuntimeSettings): RuntimeSettings {
  if (installed) return installed;
  installed = settings;
  Runtime.install({
    ...(settings.handleSignals === false ? { shutdownSignals: [] } : {}),
    logger: new TemporalLogBridge(settings.logLevel),
    ...(settings.prometheusBindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: settings.prometheusBindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } }
      : {}),
  });
  return settings;
}

/** Installs the Temporal runtime's logger once per process, at the given level. */
export function installRuntimeLogger(level: LogLevel, options: { handleSignals?: boolean } = {}): void {
  installRuntime({ logLevel: level, ...(options.handleSignals === false ? { handleSignals: false } : {}) });
}
