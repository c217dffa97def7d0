// How the runner talks to Fedora's services over HTTP: every failure is sorted once into "does not
// exist" (404: fails at once, retrying cannot help), "the service is having trouble" (5xx, 408, 429,
// network errors, truncated bodies: retried with backoff, then an infrastructure failure) or "we
// asked wrongly" (other 4xx). Directives turn these into the project's failure types.
import { setTimeout as sleep } from 'node:timers/promises';

/** The thing asked for does not exist (HTTP 404, a nil from Koji). Never retried. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** The service or the network failed in a way that may pass: retried with backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** Any other refusal (403, 400, a malformed answer): retrying would only repeat it. */
export class RequestError extends Error {
  override name = 'RequestError';
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Downloads only: a transfer with no byte for this long is abandoned and retried (default 60 s). */
  stallTimeoutMs?: number;
}

/** Six tries over about eight seconds: long enough for a hub restart or a load-balancer hiccup. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, initialDelayMs: 250, maxDelayMs: 8_000 };

export interface RetryContext {
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** Told before each wait, e.g. to log "503 from …, retrying in 500 ms". */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

/** Runs `attempt` until it succeeds, throws a non-transient error, or the tries are used up. */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, context: RetryContext = {}): Promise<T> {
  const policy = context.retry ?? DEFAULT_RETRY;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const transient = error instanceof TransientError || isNetworkError(error);
      if (!transient || n >= policy.attempts || context.signal?.aborted) {
        if (transient && !(error instanceof TransientError)) throw new TransientError(describeNetworkError(error), { cause: error });
        throw error;
      }
      const delayMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (n - 1));
      context.onRetry?.(error as Error, n, delayMs);
      await sleep(delayMs, undefined, context.signal ? { signal: context.signal } : {});
    }
  }
}

/** fetch's own failures (refused, reset, body cut off) and stream errors, as opposed to our verdicts. */
function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name === 'AbortError') return false;
  if (error.name === 'TimeoutError') return true;
  if (error instanceof NotFoundError || error instanceof RequestError) return false;
  const code = (error as { code?: string }).code ?? (error.cause as { code?: string } | undefined)?.code;
  return error instanceof TypeError || error.message === 'terminated' || typeof code === 'string';
}

function describeNetworkError(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}

/** The verdict for a non-2xx answer to a request for `what` at `url`. */
export function httpFailure(status: number, what: string, url: string): Error {
  if (status === 404 || status === 410) return new NotFoundError(`${what} does not exist (HTTP ${status} from ${url})`);
  if (status >= 500 || status === 408 || status === 429) return new TransientError(`${what}: HTTP ${status} from ${url}`);
  return new RequestError(`${what}: HTTP ${status} from ${url}`);
}

/** GET a JSON document, retried on transient failures. */
export async function getJson<T>(url: string, what: string, context: RetryContext = {}): Promise<T> {
  return withRetries(async () => {
    const response = await fetch(url, { headers: { Accept: 'application/json', 'User-Agent': USER_AGENT }, signal: withTimeout(context.signal, REQUEST_TIMEOUT_MS), redirect: 'follow' });
    if (!response.ok) {
      await response.body?.cancel();
      throw httpFailure(response.status, what, url);
    }
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RequestError(`${what}: ${url} did not answer JSON (${text.slice(0, 80)})`);
    }
  }, context);
}

/** A request Koji or Bodhi does not answer in this long is a transient failure (checkb used 300 s). */
export const REQUEST_TIMEOUT_MS = 300_000;

/** The caller's cancellation combined with a deadline of `ms`. */
export function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

export const USER_AGENT = 'taskotron (+https://pagure.io/taskotron)';
