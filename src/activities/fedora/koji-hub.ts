// A Koji hub client: XML-RPC over HTTP POST (reference/fedora-services.md §1). The wire format is
// @foxglove/xmlrpc's (it reads Koji's <nil/> and <i8>); the HTTP exchange is ours, so that a 5xx or
// a dropped connection is told apart from a fault and retried, and so cancellation reaches it.
// Koji's own conventions on top: keyword arguments travel as a trailing struct marked
// `__starstar: true` (§1.3), and `multiCall` batches calls, answering `[value]` or a fault struct
// per call (§1.5).
import type { XmlRpcValue } from '@foxglove/xmlrpc';
import { REQUEST_TIMEOUT_MS, RequestError, TransientError, USER_AGENT, withRetries, withTimeout, type RetryContext } from './http.js';

// Loaded at the first Koji call: with its XML builder it is ~180 modules and 110 ms of CPU that
// every runner, runtask and CLI process would pay at start, though most jobs never call Koji.
let xmlrpc: Promise<typeof import('@foxglove/xmlrpc')> | undefined;
const loadXmlRpc = () => (xmlrpc ??= import('@foxglove/xmlrpc'));

/** A Koji fault (§1.4): 1000 GenericError covers most "no such …" answers. */
export class KojiFault extends Error {
  override name = 'KojiFault';
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
    readonly method: string,
  ) {
    super(`${method}: Koji fault ${faultCode}: ${faultString}`);
  }
}

/** ServerOffline: the hub says it will be back; the only fault worth retrying. */
const SERVER_OFFLINE = 1014;

export interface KojiCall {
  method: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
}

export type MultiCallEntry = { ok: true; value: unknown } | { ok: false; fault: KojiFault };

/** Koji's XML-RPC values as plain JSON-able data: nil → null, <i8> (a string in the library) stays a string. */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function encodeParams(call: KojiCall): XmlRpcValue[] {
  const params = [...(call.args ?? [])] as XmlRpcValue[];
  if (call.kwargs && Object.keys(call.kwargs).length > 0) params.push({ ...(call.kwargs as Record<string, XmlRpcValue>), __starstar: true });
  return params;
}

export class KojiSession {
  constructor(
    readonly url: string,
    private readonly context: RetryContext = {},
  ) {}

  async call<T = unknown>(method: string, args: unknown[] = [], kwargs?: Record<string, unknown>): Promise<T> {
    return (await this.send(method, encodeParams({ method, args, ...(kwargs ? { kwargs } : {}) }))) as T;
  }

  /** One round trip for many calls; each answers on its own (one failing does not fail the rest). */
  async multiCall(calls: KojiCall[]): Promise<MultiCallEntry[]> {
    if (calls.length === 0) return [];
    const answer = await this.send('multiCall', [calls.map((c) => ({ methodName: c.method, params: encodeParams(c) }))]);
    if (!Array.isArray(answer) || answer.length !== calls.length) {
      throw new RequestError(`multiCall to ${this.url}: expected ${calls.length} answers, got ${Array.isArray(answer) ? answer.length : typeof answer}`);
    }
    return answer.map((entry, i): MultiCallEntry => {
      if (Array.isArray(entry) && entry.length === 1) return { ok: true, value: entry[0] };
      const fault = (entry ?? {}) as { faultCode?: unknown; faultString?: unknown };
      return { ok: false, fault: new KojiFault(Number(fault.faultCode ?? 1), String(fault.faultString ?? 'malformed multiCall entry'), calls[i]!.method) };
    });
  }

  private async send(method: string, params: XmlRpcValue[]): Promise<unknown> {
    const { Deserializer, XmlRpcFault, serializeMethodCall } = await loadXmlRpc();
    const body = serializeMethodCall(method, params);
    return withRetries(async () => {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', 'User-Agent': USER_AGENT },
        body,
        signal: withTimeout(this.context.signal, REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        throw new TransientError(`Koji hub ${this.url} answered ${method} with HTTP ${response.status}`);
      }
      if (!response.ok) throw new RequestError(`Koji hub ${this.url} answered ${method} with HTTP ${response.status}: ${text.slice(0, 200)}`);
      try {
        return plain(await new Deserializer().deserializeMethodResponse(text));
      } catch (error) {
        if (error instanceof XmlRpcFault) {
          const fault = new KojiFault(error.faultCode ?? 1, error.faultString ?? error.message, method);
          if (fault.faultCode === SERVER_OFFLINE) throw new TransientError(fault.message);
          throw fault;
        }
        throw new RequestError(`Koji hub ${this.url} answered ${method} with something that is not XML-RPC: ${(error as Error).message}`);
      }
    }, this.context);
  }
}

/** Koji sends sizes past 2³¹ as <i8>, which the library hands over as a string. */
export function kojiInt(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new RequestError(`Koji sent '${String(value)}' where a whole number belongs`);
  return n;
}
