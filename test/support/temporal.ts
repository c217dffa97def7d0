// What integration tests share: the harness's Temporal server, and names no other test file uses,
// so files can run in parallel against one server.
import { randomUUID } from 'node:crypto';
// Loaded by testClient() only: a file that needs just the address or a name, and nothing else that
// loads the SDK (runtask-corpus.test.ts), does not load its client (~0.3 s of CPU per process).
import type { Client } from '@temporalio/client';

export function testAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) {
    // Fail, never skip: a skipped integration test would read as a pass.
    throw new Error('TEMPORAL_ADDRESS is not set: run integration tests through `npm test`, which starts a Temporal dev server');
  }
  return address;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function testClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: testAddress() });
  return { client: new Client({ connection, namespace: 'default' }), close: () => connection.close() };
}
