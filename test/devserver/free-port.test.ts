// freePort picks ports below the kernel's ephemeral range, where no outgoing connection's local end
// can take them between the pick and the bind (a race seen once in start-stack.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../../src/devserver/server.js';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/)[0]);

const listen = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });

test('free ports come from below the ephemeral range and can be listened on', async () => {
  assert.ok(ephemeralLow >= 12_000, `this machine's ephemeral range starts at ${ephemeralLow}`);
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    assert.ok(port >= ephemeralLow - 12_000 && port < ephemeralLow, `port ${port} is below the ephemeral range starting at ${ephemeralLow}`);
    await listen(port);
    ports.add(port);
  }
  assert.ok(ports.size > 1, 'picked at random, not one fixed port');
});

test('a port something listens on is never handed out', async () => {
  // Occupy a stretch of the range and ask many times: none of the occupied ports may come back.
  const held = await Promise.all(
    Array.from({ length: 40 }, async () => {
      const server = createServer();
      const port = await freePort();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
      return { server, port };
    }),
  ).catch((error: unknown) => {
    throw new Error(`holding ports: ${(error as Error).message}`);
  });
  try {
    const taken = new Set(held.map((h) => h.port));
    for (let i = 0; i < 200; i++) assert.ok(!taken.has(await freePort()), 'an occupied port was handed out');
  } finally {
    await Promise.all(held.map((h) => new Promise((r) => h.server.close(r))));
  }
});
