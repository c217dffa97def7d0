// The one logger: JSON lines on stderr (what log collectors read), pretty when stderr is a terminal.
// Every process configures it once (`configureLogging`, from logging.level / logging.format, env
// TASKOTRON_LOG_LEVEL / TASKOTRON_LOG_FORMAT); modules ask for a child with `logger('ingest')`.
// The Temporal SDK's own logs (worker, workflow and activity loggers) come through `temporalLogger`,
// so they carry the same fields: workflowId, runId, activityType, action.
//
// An expected failure (a classified ApplicationFailure: a task that failed, ResultsDB refusing, a
// formula error) is one line with its type and message; only unexpected errors carry a stack.
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

// pino-pretty (30 ms of CPU at every process start) only when the output is pretty: a terminal, or
// asked for. It is CommonJS, so it can be loaded synchronously, as configureLogging must be.
const require = createRequire(import.meta.url);
const loadPretty = () => require('pino-pretty') as typeof PinoPretty;

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'auto' | 'json' | 'pretty';
export type { Logger } from 'pino';

export interface LoggingSettings {
  level: LogLevel;
  format: LogFormat;
}

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
const FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

export const DEFAULT_LOGGING: LoggingSettings = { level: 'info', format: 'auto' };

/** logging.level and logging.format from TASKOTRON_LOG_LEVEL / TASKOTRON_LOG_FORMAT; a bad value names the variable. */
export function loggingSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LoggingSettings {
  const level = (env.TASKOTRON_LOG_LEVEL ?? DEFAULT_LOGGING.level).toLowerCase();
  const format = (env.TASKOTRON_LOG_FORMAT ?? DEFAULT_LOGGING.format).toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) throw new Error(`TASKOTRON_LOG_LEVEL (logging.level): '${level}' is not one of ${LEVELS.join(', ')}`);
  if (!(FORMATS as readonly string[]).includes(format)) throw new Error(`TASKOTRON_LOG_FORMAT (logging.format): '${format}' is not one of ${FORMATS.join(', ')}`);
  return { level: level as LogLevel, format: format as LogFormat };
}

let root: Logger | undefined;

/**
 * Sets up the process's logger. `destination` is for tests (default: stderr, written synchronously
 * so the last lines before an exit are not lost). Returns the root logger.
 */
export function configureLogging(settings: LoggingSettings = loggingSettingsFromEnv(), destination?: NodeJS.WritableStream): Logger {
  const tty = destination === undefined && process.stderr.isTTY;
  const usePretty = settings.format === 'pretty' || (settings.format === 'auto' && tty);
  const stream = usePretty
    ? loadPretty()({ colorize: tty, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l', singleLine: true, ...(destination ? { destination } : { destination: 2 }) })
    : (destination ?? pino.destination({ fd: 2, sync: true }));
  root = pino(
    {
      level: settings.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return root;
}

/** The root logger (configured from the environment on first use). */
export function rootLogger(): Logger {
  return (root ??= configureLogging());
}

/** A child logger for one part of the product, e.g. `logger('ingest')`, with optional fixed fields. */
export function logger(component: string, fields: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...fields });
}

/** Sets the level of every logger made from now on and of those already made. */
export function setLogLevel(level: LevelWithSilent): void {
  rootLogger().level = level;
}

interface FailureLike {
  name?: string;
  type?: string | null;
  message?: string;
  nonRetryable?: boolean;
  cause?: unknown;
}

/**
 * The fields describing an error. Expected failures (a Temporal ApplicationFailure with a type, or
 * one of the product's named errors) become `{ failure, reason }` on one line; anything else keeps
 * its stack under `err`.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error === undefined || error === null) return {};
  const failure = error as FailureLike;
  if (typeof error === 'object' && failure.name === 'ApplicationFailure' && failure.type) {
    return { failure: failure.type, reason: failure.message ?? '', ...(failure.nonRetryable ? { retryable: false } : {}) };
  }
  if (typeof error === 'object' && (failure.name === 'ActivityFailure' || failure.name === 'ChildWorkflowFailure') && failure.cause) {
    return errorFields(failure.cause);
  }
  if (error instanceof Error && EXPECTED_ERRORS.has(error.name)) return { failure: error.name, reason: error.message };
  return { err: error };
}

/** The product's own error classes for bad input or an unavailable service: what an operator expects to see. */
const EXPECTED_ERRORS = new Set([
  'InvalidResultYaml',
  'ResultsFileMissing',
  'NamespaceNotAllowed',
  'ResultsDBRejected',
  'ResultsDBUnavailable',
  'RulesLoadError',
  'ConfigError',
  'FormulaError',
]);
