// A TCP relay to the test's Temporal server that can be switched off and on: "Temporal unreachable"
// without touching the server other test files share.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { testAddress } from '../support/temporal.js';

/** A TCP relay to the test's Temporal server that can be switched off and on. */
export class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** `target`: `host:port` to relay to (default the test's Temporal server; an AMQP broker works too). */
  constructor(
    readonly port: number,
    private readonly target?: string,
  ) {}
  async open(): Promise<void> {
    const [host, port] = (this.target ?? testAddress()).split(':') as [string, string];
    this.server = createServer((inbound) => {
      const outbound = connect({ host, port: Number(port) });
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }
  async shut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}
