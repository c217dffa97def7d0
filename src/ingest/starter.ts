// Starting trigger workflows, and keeping every matched message while Temporal cannot take it:
// a bounded in-memory queue first, then the durable spool on disk, drained oldest-first when the
// server answers again. The workflow ID (from msg_id) with REJECT_DUPLICATE is the real dedup guard,
// so retrying a start whose answer got lost is always safe.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { Item, ItemType, MessageType, MsgId } from '../common/search-attributes.js';
import { TRIGGER_WORKFLOW, triggerWorkflowId, type TriggerInput } from '../workflows/trigger.js';
import type { TriggerRequest } from './intake.js';
import type { Spool } from './spool.js';
import type { Counters, Logger } from './stats.js';

/** How a message's trigger workflow is started: one ID per msg_id, never reused, searchable. */
export function triggerStartOptions(input: TriggerInput, taskQueue: string) {
  return {
    workflowId: triggerWorkflowId(input.msgId),
    taskQueue,
    args: [input] as [TriggerInput],
    // Exactly one trigger per message, ever: a later copy of a finished one is refused too.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: MessageType, value: input.messageType },
      { key: MsgId, value: input.msgId },
      { key: Item, value: input.item },
      { key: ItemType, value: input.itemType },
    ],
  };
}

export interface StarterOptions {
  client: Client;
  triggerQueue: string;
  toInput(request: TriggerRequest): TriggerInput;
  /** Matched messages held in memory while starts fail; beyond it they go to the spool. */
  memoryCapacity: number;
  spool: Spool<TriggerRequest>;
  /** Where requests Temporal refused for good go (e.g. INVALID_ARGUMENT), one JSON line each. */
  deadLetterDir: string;
  counters: Counters;
  log: Logger;
  concurrency?: number;
  /** A start not answered within this is treated as Temporal unreachable (default 10 s). */
  startTimeoutMs?: number;
  /** Backoff while Temporal is unreachable. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Pending {
  request: TriggerRequest;
  /**
   * Set for entries held durably elsewhere until started: taken from the spool (deletes them from
   * disk) or delivered by a broker that keeps them until acked (acks them).
   */
  done?: () => void;
}

/** gRPC INVALID_ARGUMENT: retrying the same request cannot succeed. */
const PERMANENT = new Set<number>([3]);

export class TriggerStarter {
  private readonly memory: Pending[] = [];
  private inflight = 0;
  private readonly inflightTimestamps = new Map<Pending, number>();
  private pausedUntil = 0;
  private backoffMs: number;
  private retryTimer?: NodeJS.Timeout;
  private unavailableSince?: number;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly concurrency: number;
  /**
   * Broker deliveries whose start is not durable yet, by msg_id, with everyone to tell when it is: a
   * redelivery of one (the broker sends it again after a reconnect) must not be acked before that.
   */
  private readonly awaitingDurable = new Map<string, Array<() => void>>();

  constructor(private readonly options: StarterOptions) {
    this.concurrency = options.concurrency ?? 16;
    this.backoffMs = options.minBackoffMs ?? 500;
  }

  /**
   * Takes a matched message; returns at once. It will be started, now or when Temporal is back.
   * `onDurable` is for a transport that keeps the message until told (AMQP): it is called once the
   * start is durable in Temporal (or Temporal already had it, or refused it for good and it is in
   * refused.jsonl), and such a message is never spooled: until then the broker holds it, and its
   * prefetch bound is what keeps memory bounded.
   */
  submit(request: TriggerRequest, onDurable?: () => void): void {
    const { spool, memoryCapacity, counters } = this.options;
    if (onDurable) {
      if (this.ackWhenDurable(request.msgId, onDurable)) return;
      this.awaitingDurable.set(request.msgId, [onDurable]);
      const done = () => {
        const waiters = this.awaitingDurable.get(request.msgId) ?? [];
        this.awaitingDurable.delete(request.msgId);
        for (const wake of waiters) wake();
      };
      this.memory.push({ request, done });
      this.pump();
      return;
    }
    // Once anything is on disk, newer messages queue behind it there: oldest first. Memory holds
    // at most `memoryCapacity` messages, counting those whose start is in flight.
    if (spool.length > 0 || this.memory.length + this.inflight >= memoryCapacity) {
      spool.append([request]);
      counters.add('spooled');
    } else {
      this.memory.push({ request });
    }
    this.pump();
  }

  /**
   * For a redelivered copy of a broker message: when the first copy's start is still pending, `ack`
   * is called once that start is durable (or refused for good) and this returns true; false means
   * nothing is pending for `msgId` and the copy may be settled at once.
   */
  ackWhenDurable(msgId: string, ack: () => void): boolean {
    const waiters = this.awaitingDurable.get(msgId);
    if (!waiters) return false;
    waiters.push(ack);
    return true;
  }

  /** Starts what a previous run left in the spool. */
  resume(): void {
    this.pump();
  }

  /** Messages not yet started: in memory, in flight and on disk. */
  get pending(): number {
    return this.memory.length + this.inflight + this.options.spool.length;
  }

  /** Messages waiting in the durable spool on disk. */
  get spooled(): number {
    return this.options.spool.length;
  }

  /** Messages only in memory (not on disk): what a crash would lose to the backfill. Bounded by memoryCapacity. */
  get volatile(): number {
    let n = 0;
    for (const p of this.memory) if (!p.done) n++;
    for (const p of this.inflightTimestamps.keys()) if (!p.done) n++;
    return n;
  }

  get available(): boolean {
    return this.unavailableSince === undefined;
  }

  /** The oldest timestamp not yet durably handled (in memory or in flight); backfill must not pass it. */
  oldestVolatileTimestamp(): number | undefined {
    let oldest: number | undefined;
    for (const p of this.memory) if (!p.done && (oldest === undefined || p.request.timestamp < oldest)) oldest = p.request.timestamp;
    for (const [p, t] of this.inflightTimestamps) if (!p.done && (oldest === undefined || t < oldest)) oldest = t;
    return oldest;
  }

  /** Resolves when nothing is pending (tests, graceful drain). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): Pending | undefined {
    const fromMemory = this.memory.shift();
    if (fromMemory) return fromMemory;
    const [taken] = this.options.spool.take(1);
    return taken ? { request: taken.entry, done: taken.done } : undefined;
  }

  private pump(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, this.pausedUntil - now);
      return;
    }
    while (this.inflight < this.concurrency) {
      // While Temporal is down, probe with one start at a time rather than a burst.
      if (this.unavailableSince !== undefined && this.inflight > 0) break;
      const item = this.next();
      if (!item) break;
      this.inflight++;
      this.inflightTimestamps.set(item, item.request.timestamp);
      void this.startOne(item).finally(() => {
        this.inflight--;
        this.inflightTimestamps.delete(item);
        if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        this.pump();
      });
    }
  }

  private async startOne(item: Pending): Promise<void> {
    const { client, counters, log, triggerQueue } = this.options;
    const input = this.options.toInput(item.request);
    try {
      // The client's own retries would hold an unreachable call ~20 s; a deadline hands it back to us.
      await client.connection.withDeadline(Date.now() + (this.options.startTimeoutMs ?? 10_000), () => client.workflow.start(TRIGGER_WORKFLOW, triggerStartOptions(input, triggerQueue)));
      counters.add('started');
      item.done?.();
      this.recovered();
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        counters.add('already-started');
        item.done?.();
        this.recovered();
        return;
      }
      const cause = (error as { cause?: unknown }).cause;
      const code = isGrpcServiceError(error) ? error.code : isGrpcServiceError(cause) ? cause.code : undefined;
      if (code !== undefined && PERMANENT.has(code)) {
        counters.add('start-refused');
        const message = (error as Error).message;
        log('error', `Temporal refused the trigger for ${input.msgId}: ${message}; kept in ${this.options.deadLetterDir}/refused.jsonl`);
        appendFileSync(join(this.options.deadLetterDir, 'refused.jsonl'), `${JSON.stringify({ error: message, request: item.request })}\n`);
        item.done?.();
        return;
      }
      this.unavailable(item, error as Error);
    }
  }

  private recovered(): void {
    if (this.unavailableSince === undefined) return;
    this.options.log('info', `Temporal answers again after ${Math.round((Date.now() - this.unavailableSince) / 1000)} s; ${this.pending} message(s) to start`);
    this.unavailableSince = undefined;
    this.backoffMs = this.options.minBackoffMs ?? 500;
  }

  private unavailable(item: Pending, error: Error): void {
    this.options.counters.add('start-retry');
    if (this.unavailableSince === undefined) {
      this.unavailableSince = Date.now();
      this.options.log('warn', `cannot start workflows (${error.message.split('\n')[0]}); holding matched messages in memory (up to ${this.options.memoryCapacity}), then in ${this.options.spool.dir}`);
    }
    // Back to the front: it is the oldest.
    this.memory.unshift(item);
    this.spillOverflow();
    this.pausedUntil = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
  }

  /** Moves memory beyond capacity to disk, newest first out, so memory stays bounded. */
  private spillOverflow(): void {
    let excess = this.memory.length - this.options.memoryCapacity;
    const moved: TriggerRequest[] = [];
    // Entries that came from the spool are still on disk: they stay where they are.
    for (let i = this.memory.length - 1; i >= 0 && excess > 0; i--) {
      if (this.memory[i]!.done) continue;
      moved.unshift(this.memory.splice(i, 1)[0]!.request);
      excess--;
    }
    if (moved.length === 0) return;
    this.options.spool.append(moved);
    this.options.counters.add('spooled', moved.length);
  }

  /** Stops starting; what is still in memory goes to the spool so a restart starts it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    while (this.inflight > 0) await new Promise((r) => setTimeout(r, 20));
    const volatile = this.memory.splice(0).filter((p) => !p.done);
    if (volatile.length > 0) {
      this.options.spool.append(volatile.map((p) => p.request));
      this.options.counters.add('spooled', volatile.length);
      this.options.log('info', `kept ${volatile.length} unstarted message(s) in ${this.options.spool.dir} for the next start`);
    }
  }
}
