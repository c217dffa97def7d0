// The one measuring step of the publish → first job activity benches (bench/ingest-start.bench.ts's
// latency phase and bench/first-activity-ab.ts): publish one matched message, wait until its job has
// ended, and read back the trigger's and the job's histories, whose event times say where the time went.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { FedmsgPublisher } from '../src/bus/fedmsg.js';
import { pythonJsonDumps } from '../src/bus/canonical-json.js';

/** The one rule these benches run: a completed Koji build starts `nvr-sanity` on x86_64. */
export const NVR_SANITY_RULES = '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [nvr-sanity], arches: [x86_64]}]\n';

/** A factory of distinct buildsys.build.state.change messages (COMPLETE) that NVR_SANITY_RULES match. */
export function buildCompletedMessages(idPrefix: string): () => { topic: string; msg_id: string; timestamp: number; i: number; username: string; msg: Record<string, unknown> } {
  let serial = 0;
  return () => ({
    topic: 'org.fedoraproject.prod.buildsys.build.state.change',
    msg_id: `${idPrefix}-${process.pid}-${serial++}`,
    timestamp: Math.floor(Date.now() / 1000),
    i: 1,
    username: 'apache',
    msg: { attribute: 'state', build_id: 1, instance: 'primary', name: 'bash', new: 1, old: 0, owner: 'x', release: '1.fc40', task_id: 2, version: '5.2.26' },
  });
}

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** An event time in epoch milliseconds (whole ms, as the stage tables print them). */
export const eventMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

export interface PublishedJob {
  /** When the message was handed to the publisher (Date.now()). */
  at: number;
  trigger: HistoryEvent[];
  job: HistoryEvent[];
}

/**
 * Publishes `message` (a fedmsg envelope whose rules start the `nvr-sanity` x86_64 job) and returns
 * once that job has ended — one message at a time, so no job waits behind another for a slot.
 * holdSlot's ActivityTaskStarted is written only when the slot ends, hence the wait for the end.
 */
export async function publishAndAwaitJob(client: Client, publisher: FedmsgPublisher, message: { topic: string; msg_id: string }): Promise<PublishedJob> {
  const at = Date.now();
  await publisher.send(message.topic, pythonJsonDumps(message));
  const jobId = `msg-${message.msg_id}/nvr-sanity/x86_64`;
  for (let tries = 0; ; tries++) {
    // Not started yet is the only reason to wait on; a job that failed has ended too.
    const done = await client.workflow.getHandle(jobId).result().then(
      () => true,
      (error: unknown) => !(error instanceof WorkflowNotFoundError),
    );
    if (done) break;
    if (tries > 100) throw new Error(`${jobId}: did not complete`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const job = (await client.workflow.getHandle(jobId).fetchHistory()).events ?? [];
  const trigger = (await client.workflow.getHandle(`msg-${message.msg_id}`).fetchHistory()).events ?? [];
  return { at, trigger, job };
}
