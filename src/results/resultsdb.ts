// A client for the ResultsDB HTTP API v2.0 (reference §4), on Node's fetch. It knows the API's
// objects and its error shapes, and sorts every failure into one of two kinds: the server cannot
// answer now (5xx, 408, 429, connection refused, timeout: worth retrying) or it refused the request
// (any other 4xx: retrying the same request cannot help).

export interface RdbTestcase {
  name: string;
  ref_url: string | null;
  href: string;
}

export interface RdbGroup {
  uuid: string;
  description: string | null;
  ref_url: string | null;
  results: string;
  results_count: number;
  href: string;
}

export interface RdbResult {
  id: number;
  outcome: string;
  testcase: RdbTestcase;
  note: string | null;
  ref_url: string | null;
  submit_time: string;
  groups: string[];
  /** Every value a list of strings, whatever was posted. */
  data: Record<string, string[]>;
  href: string;
}

export interface RdbPage<T> {
  data: T[];
  prev: string | null;
  next: string | null;
}

export interface NewGroup {
  uuid?: string;
  description?: string;
  ref_url?: string;
}

/** POST /results body (reference §4.3). */
export interface NewResult {
  outcome: string;
  testcase: string | { name: string; ref_url?: string };
  groups?: (string | NewGroup)[];
  note?: string | null;
  ref_url?: string | null;
  data?: Record<string, string | string[]>;
}

/** Query parameters of GET /results: lists are joined with commas (OR); data keys as `item`, `item:like`. */
export type ResultQuery = Record<string, string | readonly string[] | number | undefined>;

export class ResultsDBError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly url: string,
    /** HTTP status, when the server answered at all. */
    readonly status?: number,
    /** The server's own `message`, when it sent one. */
    readonly serverMessage?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server could not answer now: down, overloaded, unreachable or too slow. Retry later. */
export class ResultsDBUnavailable extends ResultsDBError {}

/** The server answered and refused (4xx): the same request will be refused again. */
export class ResultsDBRejected extends ResultsDBError {}

/** HTTP basic auth, as a proxy in front of ResultsDB asks for it. */
export interface BasicAuth {
  username: string;
  password: string;
}

export interface ResultsDBClientOptions {
  /** Sent with every request when set. */
  auth?: BasicAuth;
  /** Per request; a request that takes longer counts as unavailable. Default 60 s. */
  timeoutMs?: number;
  /** Aborts every request, e.g. the activity's cancellation signal. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export class ResultsDBClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly options: ResultsDBClientOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.fetch = options.fetch ?? fetch;
  }

  /**
   * The outcomes this server accepts, from its landing page (`GET /api/v2.0/` answers 300 with
   * `outcomes`: the preset four plus the server's ADDITIONAL_RESULT_OUTCOMES). Undefined when the
   * page does not list them (a server older than 2.0).
   */
  async acceptedOutcomes(): Promise<string[] | undefined> {
    const landing = await this.request<{ outcomes?: unknown }>('GET', '/');
    const outcomes = landing.outcomes;
    return Array.isArray(outcomes) && outcomes.every((o) => typeof o === 'string') ? outcomes : undefined;
  }

  /** The testcase, or undefined when ResultsDB answers "Testcase not found". */
  async getTestcase(name: string): Promise<RdbTestcase | undefined> {
    return this.getOrMissing<RdbTestcase>(`/testcases/${encodeURIComponent(name)}`, 'Testcase not found');
  }

  /** Creates the testcase, or updates the `ref_url` of an existing one. */
  async createTestcase(testcase: { name: string; ref_url?: string }): Promise<RdbTestcase> {
    return this.request<RdbTestcase>('POST', '/testcases', testcase);
  }

  async getGroup(uuid: string): Promise<RdbGroup | undefined> {
    return this.getOrMissing<RdbGroup>(`/groups/${encodeURIComponent(uuid)}`, 'Group not found');
  }

  /** Creates the group, or updates description and ref_url of an existing uuid. */
  async createGroup(group: NewGroup): Promise<RdbGroup> {
    return this.request<RdbGroup>('POST', '/groups', group);
  }

  async getResult(id: number): Promise<RdbResult | undefined> {
    return this.getOrMissing<RdbResult>(`/results/${id}`, 'Result not found');
  }

  /** One page of results, newest first. */
  async listResults(query: ResultQuery = {}, page = 0, limit = 20): Promise<RdbPage<RdbResult>> {
    return this.request<RdbPage<RdbResult>>('GET', `/results${queryString({ ...query, page, limit })}`);
  }

  /**
   * Every result matching `query`, page after page. The page number is taken from each `next`
   * link and re-requested against our own base URL: behind a proxy ResultsDB builds its links from
   * the URL it saw (the corpus shows http:// links from an https:// server).
   */
  async *allResults(query: ResultQuery = {}, limit = 100): AsyncGenerator<RdbResult> {
    let page: number | undefined = 0;
    while (page !== undefined) {
      const answer: RdbPage<RdbResult> = await this.listResults(query, page, limit);
      yield* answer.data;
      page = answer.next ? nextPage(answer.next, page) : undefined;
    }
  }

  /** The newest result of every testcase matching `query` (GET /results/latest). */
  async latestResults(query: ResultQuery = {}): Promise<RdbResult[]> {
    return (await this.request<{ data: RdbResult[] }>('GET', `/results/latest${queryString(query)}`)).data;
  }

  async createResult(result: NewResult): Promise<RdbResult> {
    return this.request<RdbResult>('POST', '/results', result);
  }

  private async getOrMissing<T>(path: string, notFound: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (error) {
      // Only the resource's own "not found": a bare 404 "Not found" means a wrong base URL.
      if (error instanceof ResultsDBRejected && error.status === 404 && error.serverMessage?.startsWith(notFound)) return undefined;
      throw error;
    }
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.options.signal ? [this.options.signal] : [])];
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.options.auth ? { authorization: basicAuthorization(this.options.auth) } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any(signals),
      });
      text = await response.text();
    } catch (error) {
      if (this.options.signal?.aborted) throw error;
      throw new ResultsDBUnavailable(`${method} ${url} failed: ${networkReason(error, this.timeoutMs)}`, method, url);
    }
    const parsed = parseJson(text);
    const serverMessage = messageOf(parsed);
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      const why = serverMessage ?? (text.trim() ? snippet(text) : undefined);
      throw new ResultsDBUnavailable(`${method} ${url} answered ${status}${why ? `: ${why}` : ''}`, method, url, response.status, serverMessage);
    }
    if (response.status === 401 || response.status === 403) {
      const who = this.options.auth ? `as '${this.options.auth.username}'` : 'without credentials (set resultsdb.username and resultsdb.password_file)';
      throw new ResultsDBRejected(`${method} ${url} answered ${status} ${who}${serverMessage ? `: ${serverMessage}` : ''}`, method, url, response.status, serverMessage);
    }
    if (response.status >= 400) {
      throw new ResultsDBRejected(serverMessage ?? `${method} ${url} answered ${status}`, method, url, response.status, serverMessage);
    }
    if (parsed === undefined) {
      // A 2xx that is not JSON comes from something in front of ResultsDB (a login page, a proxy).
      throw new ResultsDBUnavailable(`${method} ${url} answered ${status} without JSON: ${snippet(text)}`, method, url, response.status);
    }
    return parsed as T;
  }
}

function basicAuthorization(auth: BasicAuth): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

function queryString(query: ResultQuery): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : String(value as string | number);
    // ':' and '*' stay readable (`item:like=foo*`), as ResultsDB's own links write them.
    parts.push(`${encodeURIComponent(key).replace(/%3A/gi, ':')}=${encodeURIComponent(text).replace(/%2A/gi, '*')}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function nextPage(link: string, current: number): number {
  const match = /[?&]page=(\d+)/.exec(link);
  return match ? Number(match[1]) : current + 1;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function messageOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('message' in body)) return undefined;
  const message = (body as { message: unknown }).message;
  // flask-restful puts per-field messages in an object: {"message": {"outcome": "..."}}.
  return typeof message === 'string' ? message : JSON.stringify(message);
}

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

function snippet(text: string): string {
  const flat = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat || '(empty body)';
}
