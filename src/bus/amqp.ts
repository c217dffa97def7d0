// fedora-messaging's side of the bus (reference §4): AMQP 0-9-1 on RabbitMQ, through amqplib. A
// consumer of one durable queue bound to the configured exchange with topic bindings, and a
// publisher that writes what fedora-messaging's Message writes (JSON body, topic as routing key,
// `fedora_messaging_*` and `sent-at` headers, a UUID message id, persistent delivery).
//
// Acknowledgement is the point of this transport: a delivery stays unacked until the consumer
// settles it, and prefetch bounds how many are unacked at once, so a consumer that cannot make
// progress (Temporal down) stops the broker sending more rather than piling them up in memory.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { checkEnvelope, type Checked, type Envelope } from './envelope.js';
import type { InboundMessage, MessageSource, Settlement } from './source.js';

export interface AmqpTls {
  /** PEM files: the broker's CA, and this client's certificate and key (Fedora's brokers want one). */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface AmqpConnectionOptions {
  /** `amqp://user:password@host:port/vhost` or `amqps://…`; credentials come from here. */
  url: string;
  tls?: AmqpTls;
  /**
   * Largest frame negotiated with the broker, and the largest the client accepts from it; a body
   * larger than this arrives in several frames. Bounds what one read can make the client allocate.
   */
  frameMax?: number;
}

export interface AmqpSourceOptions extends AmqpConnectionOptions {
  /** Exchange to bind to; `amq.topic` is where fedora-messaging publishes. */
  exchange: string;
  /** A durable queue of this name (Fedora's public broker wants a UUID name). */
  queue: string;
  /** Routing-key patterns (`*` one word, `#` any): `org.fedoraproject.prod.buildsys.#`. */
  bindings: string[];
  /** Unacknowledged deliveries at most: the back-pressure bound (fedora-messaging's qos prefetch_count). */
  prefetch: number;
  /** Bodies larger than this are rejected as `oversize` without being parsed. */
  maxMessageBytes: number;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Reconnect backoff (default 0.5 s doubling to 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export const AMQP_DEFAULTS = {
  exchange: 'amq.topic',
  queue: 'taskotron-ingest',
  bindings: ['#'],
  prefetch: 25,
  frameMax: 131_072,
} as const;

function socketOptions(options: AmqpConnectionOptions) {
  const tls = options.tls ?? {};
  return {
    ...(tls.ca ? { ca: [readFileSync(tls.ca)] } : {}),
    ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
    ...(tls.key ? { key: readFileSync(tls.key) } : {}),
    // fedora-messaging's blocked-connection and heartbeat defaults are seconds-scale; a dead broker
    // must not leave us waiting on a half-open socket.
    timeout: 10_000,
  };
}

function connectOptions(options: AmqpConnectionOptions): Options.Connect {
  const url = new URL(options.url);
  const frameMax = options.frameMax ?? AMQP_DEFAULTS.frameMax;
  const vhost = decodeURIComponent(url.pathname.replace(/^\//, '')) || '/';
  return {
    protocol: url.protocol.replace(/:$/, ''),
    hostname: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'amqps:' ? 5671 : 5672,
    username: decodeURIComponent(url.username) || 'guest',
    password: decodeURIComponent(url.password) || (url.username ? '' : 'guest'),
    vhost,
    heartbeat: 30,
    frameMax,
    maxFrameSize: frameMax,
  };
}

/** Opens one connection (no retry): the caller decides what a failure means. */
export async function openAmqp(options: AmqpConnectionOptions): Promise<ChannelModel> {
  return connect(connectOptions(options), socketOptions(options));
}

/** `amqp://user:***@host:port/vhost`: a URL fit for a log line. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** Seconds since the epoch from the `sent-at` header, the AMQP timestamp property, or now. */
function sentAt(message: ConsumeMessage): number {
  const header = message.properties.headers?.['sent-at'];
  if (typeof header === 'string') {
    const ms = Date.parse(header);
    if (Number.isFinite(ms)) return Math.trunc(ms / 1000);
  }
  const stamp = message.properties.timestamp as unknown;
  if (typeof stamp === 'number' && stamp > 0) return stamp;
  return Math.trunc(Date.now() / 1000);
}

/**
 * A fedora-messaging delivery as the envelope the rest of ingest reads: the body is what fedmsg called
 * `msg`, the routing key its topic, `message_id` its id, `sent-at` its time [reference §4.5].
 */
export function decodeDelivery(message: ConsumeMessage, maxBytes: number): Checked<Envelope> {
  const { content, fields, properties } = message;
  if (content.length > maxBytes) return { ok: false, reason: 'oversize', detail: `${content.length} bytes exceeds the limit of ${maxBytes}` };
  const encoding = typeof properties.contentEncoding === 'string' ? properties.contentEncoding.toLowerCase() : 'utf-8';
  if (encoding !== 'utf-8' && encoding !== 'utf8') return { ok: false, reason: 'not-json', detail: `content_encoding ${encoding}` };
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'not-json', detail: (error as Error).message };
  }
  const id = properties.messageId as unknown;
  if (typeof id !== 'string' || id === '') return { ok: false, reason: 'bad-shape', detail: 'message_id: expected a non-empty string property' };
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  return checkEnvelope({ topic: fields.routingKey, msg_id: id, timestamp: sentAt(message), msg: body, i: 0, headers });
}

/** One durable queue, bound and consumed with manual acknowledgement; reconnects until closed. */
export class AmqpSource implements MessageSource {
  readonly transport = 'amqp' as const;
  private model?: ChannelModel;
  private channel?: Channel;
  private closed = false;
  private wake?: () => void;
  private readonly counts: Record<string, number> = { 'amqp.connects': 0, 'amqp.disconnects': 0, 'amqp.unacked': 0 };

  constructor(private readonly options: AmqpSourceOptions) {}

  describe(): string[] {
    return [`${redactUrl(this.options.url)} queue ${this.options.queue} on ${this.options.exchange} [${this.options.bindings.join(', ')}]`];
  }

  counters(): Record<string, number> {
    return { ...this.counts };
  }

  /** Declares and binds the queue, then consumes until the connection drops; resolves then. */
  private async session(handle: (message: InboundMessage) => void): Promise<void> {
    const { exchange, queue, bindings, prefetch, maxMessageBytes } = this.options;
    const model = await openAmqp(this.options);
    this.model = model;
    const ended = new Promise<void>((resolve) => {
      model.on('close', () => resolve());
      model.on('error', () => resolve());
    });
    const channel = await model.createChannel();
    this.channel = channel;
    channel.on('error', () => undefined);
    // The `amq.*` exchanges exist on every broker and may only be declared passively.
    if (exchange.startsWith('amq.')) await channel.checkExchange(exchange);
    else await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false });
    for (const pattern of bindings) await channel.bindQueue(queue, exchange, pattern);
    await channel.prefetch(prefetch);
    this.counts['amqp.connects']!++;
    this.options.log?.('info', `consuming ${this.describe()[0]} (prefetch ${prefetch})`);
    await channel.consume(queue, (message) => {
      if (!message) {
        // The broker cancelled the consumer (queue deleted): reconnect and declare it again.
        void model.close().catch(() => undefined);
        return;
      }
      let settled = false;
      this.counts['amqp.unacked']!++;
      const settle = (how: 'ack' | 'reject') => {
        if (settled) return;
        settled = true;
        // A delivery tag belongs to its channel: after a reconnect the broker redelivers the message
        // and this settlement has nothing left to do. Nor has the count, reset with the channel: a
        // late settlement taking it below zero made `amqp.unacked` useless once a connection dropped.
        if (this.channel !== channel) return;
        this.counts['amqp.unacked']!--;
        try {
          if (how === 'ack') channel.ack(message);
          else channel.reject(message, false);
        } catch {
          /* channel closed meanwhile: the broker redelivers */
        }
      };
      const settlement: Settlement = { ack: () => settle('ack'), reject: () => settle('reject') };
      handle({ transport: 'amqp', decoded: decodeDelivery(message, maxMessageBytes), settlement });
    }, { noAck: false });
    await ended;
  }

  async run(handle: (message: InboundMessage) => void): Promise<void> {
    let delay = this.options.minBackoffMs ?? 500;
    while (!this.closed) {
      try {
        await this.session(handle);
        delay = this.options.minBackoffMs ?? 500;
      } catch (error) {
        if (this.closed) break;
        this.options.log?.('warn', `AMQP ${redactUrl(this.options.url)}: ${(error as Error).message}; retrying in ${delay / 1000} s`);
      }
      this.channel = undefined;
      this.counts['amqp.unacked'] = 0;
      await this.model?.close().catch(() => undefined);
      this.model = undefined;
      if (this.closed) break;
      this.counts['amqp.disconnects']!++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, this.options.maxBackoffMs ?? 30_000);
    }
  }

  /** Stops consuming; unacked deliveries go back to the queue when the connection closes. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    const model = this.model;
    this.channel = undefined;
    await model?.close().catch(() => undefined);
  }
}

/** What fedora-messaging puts in a message's headers, and its body encoding (json.dumps defaults). */
export interface FedoraMessage {
  topic: string;
  body: unknown;
  /** Entry-point name of the schema class, e.g. `taskotron.result.new` has none upstream: ours names it. */
  schema: string;
  /** 10 DEBUG, 20 INFO (default), 30 WARNING, 40 ERROR. */
  severity?: number;
  id?: string;
  /** Extra `fedora_messaging_*` headers (`fedora_messaging_rpm_<name>: true` …). */
  headers?: Record<string, unknown>;
  priority?: number;
}

/** `2025-11-17T14:42:02+00:00`: fedora-messaging's sent-at (UTC, no fraction). */
export function sentAtHeader(now: Date): string {
  return `${now.toISOString().slice(0, 19)}+00:00`;
}

/** A publisher on a confirm channel: `publish` resolves once the broker has taken the message. */
export class AmqpPublisher {
  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: ConfirmChannel,
    readonly exchange: string,
  ) {}

  static async open(options: AmqpConnectionOptions & { exchange?: string }): Promise<AmqpPublisher> {
    const model = await openAmqp(options);
    model.on('error', () => undefined);
    const channel = await model.createConfirmChannel();
    channel.on('error', () => undefined);
    return new AmqpPublisher(model, channel, options.exchange ?? AMQP_DEFAULTS.exchange);
  }

  /** Publishes one message; returns its id. */
  async publish(message: FedoraMessage, now = new Date()): Promise<string> {
    const id = message.id ?? randomUUID();
    const headers: Record<string, unknown> = {
      fedora_messaging_schema: message.schema,
      fedora_messaging_severity: message.severity ?? 20,
      'sent-at': sentAtHeader(now),
      ...(message.priority !== undefined ? { priority: message.priority } : {}),
      ...message.headers,
    };
    const body = Buffer.from(fedoraMessagingJson(message.body), 'utf8');
    await new Promise<void>((resolve, reject) => {
      this.channel.publish(this.exchange, message.topic, body, {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 2,
        messageId: id,
        headers,
        ...(message.priority !== undefined ? { priority: message.priority } : {}),
      }, (error: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()));
    });
    return id;
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }
}

/** json.dumps(value) with Python's defaults: `", "` and `": "`, ASCII only, keys in insertion order. */
export function fedoraMessagingJson(value: unknown): string {
  const compact = JSON.stringify(value) ?? 'null';
  // Strings are matched whole so only the separators between values get Python's space.
  return compact
    .replace(/"(?:[^"\\]|\\.)*"|[,:]/g, (token) => (token.length === 1 ? `${token} ` : token))
    .replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
