// Address allowlists for bound endpoints (fedmsg.bind_allow): parsed here, without ZeroMQ, so the
// configuration schema can check every entry where the file is read.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

interface Entry {
  address: string;
  type: 'ipv4' | 'ipv6';
  prefix?: number;
}

/** An entry such as `127.0.0.1`, `10.0.0.0/8`, `::1` or `fd00::/8`, or the reason it is none. */
export function parseAddressEntry(entry: string): Entry | string {
  const [address = '', prefix, extra] = entry.trim().split('/');
  const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  const bits = prefix === undefined ? undefined : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  if (!type || extra !== undefined || Number.isNaN(bits) || (bits !== undefined && bits > (type === 'ipv4' ? 32 : 128))) {
    return `'${entry}' is not an IP address or a network such as 10.0.0.0/8 or fd00::/8`;
  }
  return { address, type, ...(bits !== undefined ? { prefix: bits } : {}) };
}

/** The allowlist of `entries`; throws on an entry that is not an address or a network, naming it. */
export function addressAllowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseAddressEntry(entry);
    if (typeof parsed === 'string') throw new Error(parsed);
    if (parsed.prefix === undefined) list.addAddress(parsed.address, parsed.type);
    else list.addSubnet(parsed.address, parsed.prefix, parsed.type);
  }
  return list;
}

/** Whether a peer address as libzmq reports it is on the list; an IPv4 peer of a dual-stack socket arrives as ::ffff:a.b.c.d. */
export function addressAllowed(list: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return list.check(mapped, 'ipv4') || list.check(address, 'ipv6');
  if (isIPv4(address)) return list.check(address, 'ipv4');
  if (isIPv6(address)) return list.check(address, 'ipv6');
  return false;
}

