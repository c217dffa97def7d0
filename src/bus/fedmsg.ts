// ZeroMQ side of fedmsg (reference §3.1): SUB sockets that connect to publishers' endpoints (the
// usual consumer) or bind an inbound endpoint that "active" publishers connect to (what
// fedmsg-relay does), and a publisher for local testing. Frames are handed on undecoded: what they
// mean is envelope.ts's business.
import { Subscriber, XPublisher } from 'zeromq';
import { decodeFrames } from './envelope.js';
import type { InboundMessage, MessageSource } from './source.js';
import { addressAllowList } from './address-list.js';
import { registerZapDomain } from './zap.js';

export interface SubscriberOptions {
  /** Publisher endpoints to connect to, e.g. tcp://hub.fedoraproject.org:9940. */
  connect?: string[];
  /** Endpoints to bind for publishers that connect (fedmsg "active" mode, `taskotron publish`). */
  bind?: string[];
  /**
   * Addresses and networks (`10.0.0.0/8`) allowed to connect to the bound endpoints; any other peer
   * is refused in ZeroMQ's handshake (zap.ts) and counted as `fedmsg.refused-peers`. Empty: anyone.
   */
  bindAllow?: string[];
  /** Topic prefixes; empty or [''] means everything. */
  topics?: string[];
  /**
   * Messages queued per connection before ZeroMQ stops reading from it (ZMQ_RCVHWM; the publisher
   * then holds or drops them by its own send high-water mark). 0 = unbounded. Default 100.
   */
  highWaterMark?: number;
  /**
   * Largest frame ZeroMQ accepts (ZMQ_MAXMSGSIZE); 0 = none. A larger frame is refused from its
   * length header, before anything is allocated, and libzmq drops the connection it came on.
   */
  maxFrameBytes?: number;
  /** How long after a connection ends without libzmq retrying it ingest connects it again (default 500 ms). */
  redialDelayMs?: number;
}

export const DEFAULT_RECEIVE_HIGH_WATER_MARK = 100;

export type FramesHandler = (frames: Buffer[]) => void;

/** fedmsg's Fedora-infra socket settings: keepalive, 100 ms reconnect backing off to 1 s. */
function configure(socket: Subscriber, options: SubscriberOptions): void {
  socket.receiveHighWaterMark = options.highWaterMark ?? DEFAULT_RECEIVE_HIGH_WATER_MARK;
  socket.tcpKeepalive = 1;
  socket.tcpKeepaliveCount = 3;
  socket.tcpKeepaliveIdle = 60;
  socket.tcpKeepaliveInterval = 5;
  socket.reconnectInterval = 100;
  socket.reconnectMaxInterval = 1000;
  socket.linger = 0;
  if (options.maxFrameBytes) socket.maxMessageSize = options.maxFrameBytes;
  const topics = options.topics && options.topics.length > 0 ? options.topics : [''];
  for (const topic of topics) socket.subscribe(topic);
}

export class FedmsgSubscriber {
  private readonly sockets: Subscriber[] = [];
  private readonly redials = new Set<NodeJS.Timeout>();
  private closed = false;
  /**
   * Connection events, from each socket's monitor: what the transport refused is visible here and
   * nowhere else (a frame over ZMQ_MAXMSGSIZE never reaches the application).
   */
  private readonly counts: Record<string, number> = {
    'fedmsg.connections': 0,
    'fedmsg.disconnects': 0,
    'fedmsg.handshake-failures': 0,
    'fedmsg.protocol-drops': 0,
    'fedmsg.refused-peers': 0,
  };
  private unregisterZap: (() => void) | undefined;

  /** Addresses actually bound (a `tcp://127.0.0.1:0` bind resolves to a real port). */
  readonly boundEndpoints: string[] = [];

  private constructor(private readonly options: SubscriberOptions) {}

  static async open(options: SubscriberOptions): Promise<FedmsgSubscriber> {
    const bus = new FedmsgSubscriber(options);
    // One socket per endpoint, as fedmsg does: one stalled publisher cannot starve the others.
    for (const endpoint of options.connect ?? []) {
      const socket = new Subscriber();
      configure(socket, options);
      bus.observe(socket, endpoint);
      socket.connect(endpoint);
      bus.sockets.push(socket);
    }
    try {
      // Before any bind: a peer must never reach a bound socket that nobody guards yet.
      const allow = options.bind?.length && options.bindAllow?.length ? addressAllowList(options.bindAllow) : undefined;
      const zap = allow ? await registerZapDomain(allow, () => bus.counts['fedmsg.refused-peers']!++) : undefined;
      bus.unregisterZap = zap?.unregister;
      for (const endpoint of options.bind ?? []) {
        const socket = new Subscriber();
        configure(socket, options);
        // Only TCP has peer addresses; an ipc:// endpoint is guarded by its file's permissions.
        if (zap && endpoint.startsWith('tcp://')) {
          socket.zapDomain = zap.domain;
          // Without a handler libzmq would let NULL connections through; with this it refuses them.
          socket.zapEnforceDomain = true;
        }
        bus.observe(socket);
        bus.sockets.push(socket);
        await socket.bind(endpoint);
        bus.boundEndpoints.push(socket.lastEndpoint ?? endpoint);
      }
    } catch (error) {
      bus.close();
      throw error;
    }
    return bus;
  }

  /**
   * Counts each socket's connection events. libzmq ends a connection on a protocol error (a frame
   * over ZMQ_MAXMSGSIZE, garbage instead of ZMTP) and, on a connecting socket, never dials that
   * endpoint again (session_base_t::engine_error terminates instead of reconnecting): one oversized
   * frame from the hub would cut ingest off for good. After an ordinary connection loss libzmq
   * reports `connect:retry` at once; a disconnect that no retry follows is such a protocol drop,
   * and this dials the endpoint again itself.
   */
  private observe(socket: Subscriber, endpoint?: string): void {
    let redial: NodeJS.Timeout | undefined;
    const cancel = () => {
      if (redial) this.redials.delete(redial);
      clearTimeout(redial);
      redial = undefined;
    };
    const events = socket.events;
    events.on('accept', () => this.counts['fedmsg.connections']!++);
    events.on('connect', () => {
      cancel();
      this.counts['fedmsg.connections']!++;
    });
    events.on('connect:retry', cancel);
    // A peer refused by the allowlist is an auth failure, counted as fedmsg.refused-peers by zap.ts.
    for (const type of ['handshake:error:protocol', 'handshake:error:other'] as const) {
      events.on(type, () => this.counts['fedmsg.handshake-failures']!++);
    }
    events.on('disconnect', () => {
      this.counts['fedmsg.disconnects']!++;
      if (!endpoint || this.closed) return;
      cancel();
      // Outside the observer's callback: re-dialling from inside it stalls the socket.
      const timer = setTimeout(() => {
        // One turn of I/O first: after a busy event loop the retry event may be waiting behind this timer.
        setImmediate(() => {
          if (redial !== timer || this.closed) return;
          cancel();
          this.counts['fedmsg.protocol-drops']!++;
          try {
            socket.disconnect(endpoint);
          } catch {
            /* libzmq already forgot the endpoint */
          }
          socket.connect(endpoint);
        });
      }, this.options.redialDelayMs ?? 500);
      redial = timer;
      this.redials.add(timer);
    });
  }

  /** Endpoints waiting to be dialled again (a disconnect that libzmq has not yet said it retries). */
  get pendingRedials(): number {
    return this.redials.size;
  }

  /** Transport-level counts: connections made and ended, refused handshakes, protocol drops re-dialled. */
  counters(): Record<string, number> {
    return { ...this.counts };
  }

  /** Receives until close(); a handler that throws is the caller's bug, so it is not swallowed here. */
  async run(handle: FramesHandler): Promise<void> {
    await Promise.all(
      this.sockets.map(async (socket) => {
        try {
          for await (const frames of socket) handle(frames);
        } catch (error) {
          if (!this.closed) throw error;
        }
      }),
    );
  }

  close(): void {
    this.closed = true;
    for (const timer of this.redials) clearTimeout(timer);
    this.redials.clear();
    for (const socket of this.sockets) socket.close();
    this.unregisterZap?.();
    this.unregisterZap = undefined;
  }
}

export interface PublisherOptions {
  /** Connect to a subscriber's bound endpoint (active publisher) ... */
  connect?: string;
  /** ... or bind an endpoint that subscribers connect to. */
  bind?: string;
}

/**
 * A fedmsg publisher. It is an XPUB socket so it can see subscriptions arrive: `waitForSubscriber`
 * closes ZeroMQ's "slow joiner" gap (a PUB drops what it sends before a subscriber has subscribed),
 * where fedmsg itself just sleeps `post_init_sleep`.
 */
export class FedmsgPublisher {
  private subscribers = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly watching: Promise<void>;
  readonly endpoint: string;

  private constructor(
    private readonly socket: XPublisher,
    endpoint: string,
  ) {
    this.endpoint = endpoint;
    this.watching = this.watchSubscriptions();
  }

  static async open(options: PublisherOptions): Promise<FedmsgPublisher> {
    const socket = new XPublisher();
    socket.linger = 2000;
    socket.sendHighWaterMark = 0;
    if (options.bind) {
      await socket.bind(options.bind);
      return new FedmsgPublisher(socket, socket.lastEndpoint ?? options.bind);
    }
    if (!options.connect) throw new Error('a publisher needs an endpoint to connect to or bind');
    socket.connect(options.connect);
    return new FedmsgPublisher(socket, options.connect);
  }

  private async watchSubscriptions(): Promise<void> {
    try {
      for await (const [frame] of this.socket) {
        if (frame && frame[0] === 1) {
          this.subscribers++;
          for (const wake of this.waiters.splice(0)) wake();
        }
      }
    } catch {
      /* socket closed */
    }
  }

  /** Subscriptions seen so far: a subscriber that reconnects subscribes again. */
  get subscriptions(): number {
    return this.subscribers;
  }

  async waitForSubscriber(timeoutMs = 5000): Promise<boolean> {
    if (this.subscribers > 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Sends the two frames fedmsg sends: topic, then the envelope's JSON. */
  async send(topic: string, body: string | Buffer): Promise<void> {
    await this.socket.send([topic, body]);
  }

  /** Sends any frames at all: what a broken or hostile publisher sends (tests of the subscriber's limits). */
  async sendFrames(frames: Array<string | Buffer>): Promise<void> {
    await this.socket.send(frames);
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.watching;
  }
}

export interface FedmsgSourceOptions extends SubscriberOptions {
  maxMessageBytes: number;
  /** Topics the consumer acts on; any other is `unknown-topic` unparsed (decodeFrames). */
  handlesTopic?: (topic: string) => boolean;
}

/** fedmsg's ZeroMQ sockets as a MessageSource: frames decoded, no acknowledgement (PUB/SUB has none). */
export class FedmsgSource implements MessageSource {
  readonly transport = 'fedmsg' as const;

  private constructor(
    private readonly subscriber: FedmsgSubscriber,
    private readonly options: FedmsgSourceOptions,
  ) {}

  static async open(options: FedmsgSourceOptions): Promise<FedmsgSource> {
    return new FedmsgSource(await FedmsgSubscriber.open(options), options);
  }

  get boundEndpoints(): string[] {
    return this.subscriber.boundEndpoints;
  }

  describe(): string[] {
    return [...(this.options.connect ?? []), ...this.subscriber.boundEndpoints];
  }

  run(handle: (message: InboundMessage) => void): Promise<void> {
    const { maxMessageBytes, handlesTopic } = this.options;
    return this.subscriber.run((frames) => handle({ transport: 'fedmsg', decoded: decodeFrames(frames, maxMessageBytes, handlesTopic), ...(frames.length === 2 ? { signedText: frames[1]! } : {}) }));
  }

  async close(): Promise<void> {
    this.subscriber.close();
  }

  counters(): Record<string, number> {
    return this.subscriber.counters();
  }
}
