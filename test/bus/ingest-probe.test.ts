// `taskotron start` says "Ingest ready" only after a ZeroMQ handshake with the ingest's socket
// (waitForIngest). A port that accepts TCP but speaks no ZMTP is not an ingest, and a port nobody
// listens on gives up at the deadline instead of hanging the banner.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { Subscriber } from 'zeromq';
import { waitForIngest } from '../../src/cli/start-run.js';
import { freePort } from '../../src/devserver/server.js';

test('the probe answers true once a ZeroMQ subscriber has bound, even when it binds after the probe started', async () => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const sub = new Subscriber();
  try {
    const probing = waitForIngest(endpoint, 30_000);
    await sub.bind(endpoint);
    assert.equal(await probing, true);
  } finally {
    sub.close();
  }
});

test('a TCP listener that speaks no ZMTP, or no listener at all, is not an ingest: false at the deadline', async () => {
  const sockets: Socket[] = [];
  const closed: Array<Promise<void>> = [];
  const silent = createServer((socket) => {
    sockets.push(socket);
    // Read (and drop) the probe's greeting: a paused socket never sees the peer's FIN, so it
    // would never emit 'close'.
    socket.resume();
    // A reset instead of a FIN is as good an ending; without a listener it would be an uncaught error.
    socket.on('error', () => {});
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', () => resolve()));
  try {
    const started = Date.now();
    // 1.5 s leaves a loaded CI machine ample time for the TCP connect the next assertion asks for.
    assert.equal(await waitForIngest(`tcp://127.0.0.1:${port}`, 1500), false);
    assert.ok(Date.now() - started >= 1400, 'it waited for its deadline');
    assert.ok(sockets.length >= 1, 'the probe did connect');
    // The probe closes its socket when it gives up: nothing is left connected to the port.
    await Promise.all(closed);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
  assert.equal(await waitForIngest(`tcp://127.0.0.1:${await freePort()}`, 300), false);
});
