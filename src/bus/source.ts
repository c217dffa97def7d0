// What every transport hands to its consumer: one message, decoded into a fedmsg-shaped envelope (or
// the reason it could not be), and a way to settle it with the transport. Ingest reads only this;
// which wire it came over (fedmsg's ZeroMQ, fedora-messaging's AMQP) is the source's business.
import type { Checked, Envelope } from './envelope.js';

export type Transport = 'fedmsg' | 'amqp';

/**
 * How the consumer tells the transport what became of a message. fedmsg (ZeroMQ PUB/SUB) has no
 * acknowledgement, so its messages carry none; an AMQP message is acked only once it is durably
 * handled and rejected (without requeue) when it can never be handled.
 */
export interface Settlement {
  /** Handled for good (started, duplicate, or of no interest): the broker may forget it. */
  ack(): void;
  /** Malformed: never redeliver it (AMQP basic.reject requeue=false). */
  reject(): void;
}

export interface InboundMessage {
  transport: Transport;
  decoded: Checked<Envelope>;
  /**
   * The received JSON text of a fedmsg envelope: what its X.509 signature covers (number lexemes
   * included). Absent for AMQP, whose trust is the broker's TLS and permissions, not a signature.
   */
  signedText?: Buffer;
  settlement?: Settlement;
}

export interface MessageSource {
  readonly transport: Transport;
  /** Where it listens, for logs (`tcp://127.0.0.1:9941`, `amqp://127.0.0.1:5672/ queue q`). */
  describe(): string[];
  /** Receives until close(); `handle` must not throw. */
  run(handle: (message: InboundMessage) => void): Promise<void>;
  close(): Promise<void>;
  /** Transport-level drops and limits (counted, for metrics). */
  counters(): Record<string, number>;
}
