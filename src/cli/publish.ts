// `taskotron publish MESSAGE.json...`: a fedmsg publisher for local testing. Like fedmsg's "active"
// publishers it connects to the subscriber's bound endpoint (what `npm start`'s ingest binds), waits
// until the subscription has arrived, and sends the two frames fedmsg sends.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { FedmsgPublisher } from '../bus/fedmsg.js';
import { pythonJsonDumps } from '../bus/canonical-json.js';
import { envelopesFromJson } from '../bus/envelope.js';

export const DEFAULT_PUBLISH_ENDPOINT = 'tcp://127.0.0.1:9941';

interface PublishOptions {
  endpoint: string;
  bind?: string;
  newId?: boolean;
  wait: string;
}

/** Fills what fedmsg's publish() adds: msg_id (`<year>-<uuid4>`), timestamp, i, username. */
export function completeEnvelope(value: Record<string, unknown>, index: number, freshId = false): Record<string, unknown> {
  const now = new Date();
  return {
    ...value,
    msg_id: !freshId && typeof value.msg_id === 'string' ? value.msg_id : `${now.getUTCFullYear()}-${randomUUID()}`,
    timestamp: typeof value.timestamp === 'number' ? value.timestamp : Math.floor(now.getTime() / 1000),
    i: typeof value.i === 'number' ? value.i : index + 1,
    username: typeof value.username === 'string' ? value.username : userInfo().username,
  };
}

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .argument('<messages...>', 'message files')
    .option('--endpoint <url>', 'the subscriber endpoint to connect to', DEFAULT_PUBLISH_ENDPOINT)
    .option('--bind <url>', 'bind this endpoint instead and wait for a subscriber to connect')
    .option('--new-id', 'give every message a fresh msg_id (otherwise a msg_id in the file is kept, so a re-publish is a duplicate)')
    .option('--wait <seconds>', 'how long to wait for a subscriber', '10')
    .action(async (files: string[], options: PublishOptions) => {
      const envelopes = files.flatMap((file) => envelopesFromJson(JSON.parse(readFileSync(file, 'utf8'))));
      const publisher = await FedmsgPublisher.open(options.bind ? { bind: options.bind } : { connect: options.endpoint });
      try {
        if (!(await publisher.waitForSubscriber(Number(options.wait) * 1000))) {
          console.error(`taskotron publish: no subscriber on ${publisher.endpoint} within ${options.wait} s (is \`npm start\` or \`taskotron ingest --bind ${publisher.endpoint}\` running?)`);
          process.exitCode = 1;
          return;
        }
        for (const [index, value] of envelopes.entries()) {
          if (typeof value !== 'object' || value === null || typeof (value as { topic?: unknown }).topic !== 'string') {
            console.error(`taskotron publish: message ${index + 1} has no topic; skipped`);
            process.exitCode = 1;
            continue;
          }
          const envelope = completeEnvelope(value as Record<string, unknown>, index, options.newId);
          await publisher.send(String(envelope.topic), pythonJsonDumps(envelope));
          console.log(`published ${String(envelope.msg_id)} ${String(envelope.topic)}`);
        }
      } finally {
        await publisher.close();
      }
    });
}
