// What the Fedora directives (koji, bodhi, distgit, yumrepoinfo) share around their own logic: a log
// per action, heartbeats carrying download progress (the Web UI shows files and bytes moving),
// cancellation reaching every request, and one mapping of their errors onto the project's failures.
import { createWriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { FailureType, stepFailure } from '../../common/failures.js';
import { actionLogFile, MAX_EXPORT_BYTES, type ActionOutput, type ActionRequest } from '../directives/context.js';
import { HEARTBEAT_INTERVAL_MS } from '../supervise.js';
import type { RunnerConfig } from '../runner-config.js';
import { newProgress, sharedCache, type DownloadCache, type DownloadProgress } from './download.js';
import { NotFoundError, RequestError, TransientError, type RetryPolicy } from './http.js';
import { KojiFault } from './koji-hub.js';
import { downloadCacheDir } from '../runner-config.js';

/** Bad parameters in the formula, found at run time. */
export class ParameterError extends Error {
  override name = 'ParameterError';
}

export interface DirectiveRun {
  config: RunnerConfig;
  signal?: AbortSignal;
  progress: DownloadProgress;
  /** The host's download cache, or undefined when download_cache.enabled is off. */
  cache?: DownloadCache;
  retry?: RetryPolicy;
  log(line: string): void;
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export async function runFedoraDirective(
  directive: string,
  request: ActionRequest,
  config: RunnerConfig,
  body: (run: DirectiveRun) => Promise<unknown>,
): Promise<ActionOutput> {
  const started = Date.now();
  const logFile = actionLogFile(request);
  mkdirSync(dirname(logFile), { recursive: true });
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const context = activityContext();
  const progress = newProgress();
  const run: DirectiveRun = {
    config,
    progress,
    ...(context ? { signal: context.cancellationSignal } : {}),
    ...(config.downloadRetry ? { retry: config.downloadRetry } : {}),
    ...(config.downloadCache.enabled ? { cache: sharedCache({ dir: downloadCacheDir(config), maxSize: config.downloadCache.maxSize }) } : {}),
    log: (line) => logStream.write(`${line}\n`),
  };
  const beat = () => context?.heartbeat({ directive, ...progress, elapsedMs: Date.now() - started });
  beat();
  const heartbeats = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  try {
    const output = await body(run);
    beat(); // the final counts, so the last heartbeat shows the finished download
    run.log(`[taskotron] ${directive} done in ${Date.now() - started} ms: ${progress.filesDone} files, ${progress.bytesDone} bytes (${progress.filesCached} from the cache, ${progress.retries} retries)`);
    if (request.exported && Buffer.byteLength(JSON.stringify(output ?? null)) > MAX_EXPORT_BYTES) {
      throw stepFailure(FailureType.OutputTooLarge, `action '${request.name}': the ${directive} output is larger than ${MAX_EXPORT_BYTES} bytes and cannot be exported`, { log: logFile });
    }
    return { ...(request.exported ? { output: output ?? null } : {}), log: logFile, durationMs: Date.now() - started };
  } catch (error) {
    const message = (error as Error).message;
    run.log(`[taskotron] ${directive} failed: ${message}`);
    if (context?.cancellationSignal.aborted) throw new CancelledFailure(`cancelled during ${directive}`);
    const details = { log: logFile, directive };
    const prefix = `action '${request.name}': ${directive}: `;
    if (error instanceof ParameterError) throw stepFailure(FailureType.InvalidParameters, prefix + message, details);
    if (error instanceof NotFoundError) throw stepFailure(FailureType.NotFound, prefix + message, details);
    if (error instanceof TransientError) throw stepFailure(FailureType.ServiceUnavailable, prefix + message, details);
    if (error instanceof KojiFault || error instanceof RequestError) throw stepFailure(FailureType.DirectiveFailed, prefix + message, details);
    throw error;
  } finally {
    clearInterval(heartbeats);
    await new Promise<void>((resolve) => logStream.end(resolve));
  }
}

/** A parameter that must be a string. */
export function stringParam(params: Record<string, unknown>, key: string, directive: string, required = true): string | undefined {
  const value = params[key];
  if (value === undefined || value === null || value === '') {
    if (required) throw new ParameterError(`'${key}' is required`);
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number') throw new ParameterError(`'${key}' must be a string, got ${JSON.stringify(value)} (${directive})`);
  return String(value);
}

export function boolParam(params: Record<string, unknown>, key: string): boolean {
  const value = params[key];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && ['true', 'false', 'yes', 'no'].includes(value.toLowerCase())) return ['true', 'yes'].includes(value.toLowerCase());
  throw new ParameterError(`'${key}' must be true or false, got ${JSON.stringify(value)}`);
}
