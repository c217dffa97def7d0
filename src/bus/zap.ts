// Who may connect to ingest's bound fedmsg endpoints. ZeroMQ asks a ZAP handler (RFC 27, ZeroMQ's
// authentication protocol) about every new connection to a socket that names a ZAP domain, before
// any message of it is read; the handler here answers from an allowlist of addresses and networks.
// fedmsg's publishers sign their messages but ZeroMQ's NULL mechanism authenticates nobody, so without
// this anyone who reaches the port gets a connection and its queue (docs/ingest.md, *Limits*).
import type { BlockList } from 'node:net';
import { Reply } from 'zeromq';
import { addressAllowed } from './address-list.js';

/** libzmq looks for the handler here, in the same ZeroMQ context as the sockets it guards. */
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

interface Domain {
  allow: BlockList;
  refused(address: string): void;
}

/** How often an idle handler looks whether it still has domains to answer for. */
const IDLE_CHECK_MS = 250;

/** Domains answered for, by name. */
const domains = new Map<string, Domain>();
let nextDomain = 0;
/**
 * One handler per process (libzmq allows one per context), bound at first use and never closed:
 * libzmq frees an inproc name only some time after its socket is closed, so a handler closed with its
 * last domain could not be bound again at once (300 open/close rounds: 209 EADDRINUSE). A bound socket
 * with no receive pending does not keep Node running, so `serve` receives only while there are domains.
 */
let handler: Promise<Reply> | undefined;
let serving = false;

async function serve(socket: Reply): Promise<void> {
  serving = true;
  try {
    while (domains.size > 0) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch (error) {
        if ((error as { code?: string }).code === 'EAGAIN') continue;
        throw error;
      }
      const [version, requestId, domainName, address] = frames;
      const domain = domains.get(domainName?.toString() ?? '');
      const peer = address?.toString() ?? '';
      // Unknown domain or protocol version: refuse. A socket whose domain is gone is closing anyway.
      const ok = version?.toString() === '1.0' && domain !== undefined && addressAllowed(domain.allow, peer);
      if (!ok) domain?.refused(peer);
      await socket.send(['1.0', requestId ?? '', ok ? '200' : '400', ok ? 'OK' : `address ${peer} is not allowed`, '', '']);
    }
  } catch {
    // The socket failed: requests go unanswered, so guarded sockets refuse (fail closed) until the
    // next registration starts serving again.
  } finally {
    serving = false;
  }
}

async function bindHandler(): Promise<Reply> {
  const socket = new Reply();
  socket.linger = 0;
  socket.receiveTimeout = IDLE_CHECK_MS;
  await socket.bind(ZAP_ENDPOINT);
  return socket;
}

/**
 * Registers an allowlist under a new ZAP domain and returns the domain (to set as a socket's
 * `zapDomain`) and a function that removes it.
 */
export async function registerZapDomain(allow: BlockList, refused: (address: string) => void): Promise<{ domain: string; unregister: () => void }> {
  const binding = (handler ??= bindHandler());
  const socket = await binding.catch((error: unknown) => {
    if (handler === binding) handler = undefined;
    throw error;
  });
  const domain = `taskotron-${process.pid}-${nextDomain++}`;
  domains.set(domain, { allow, refused });
  if (!serving) void serve(socket);
  return { domain, unregister: () => void domains.delete(domain) };
}
