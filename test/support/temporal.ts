// What integration tests share: the harness's Temporal server, and names no other test file uses,
// so files can run in parallel against one server.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';

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
  const connection = await Connection.connect({ address: testAddress() });
  return { client: new Client({ connection, namespace: 'default' }), close: () => connection.close() };
}
