// Before the local stack starts anything: are its ports free? A taken port is refused at once,
// naming the port and, where Linux lets us see it (/proc/net/tcp + /proc/<pid>/fd), the process
// that holds it, instead of starting a second server over an orphan.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

export interface PortHolder {
  pid: number;
  /** Its command line, as `ps` would show it. */
  command: string;
}

/** Inodes of sockets listening on `port` (any address, IPv4 or IPv6). */
export function listeningInodes(port: number, tables: readonly string[] = ['/proc/net/tcp', '/proc/net/tcp6']): Set<string> {
  const inodes = new Set<string>();
  for (const table of tables) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== '0A') continue; // 0A: TCP_LISTEN
      if (parseInt(local.split(':')[1] ?? '', 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** The processes holding a listening socket on `port`; empty when none is visible to us. */
export function portHolders(port: number): PortHolder[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const holders: PortHolder[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    const holds = fds.some((fd) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return target.startsWith('socket:[') && inodes.has(target.slice(8, -1));
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      /* exited meanwhile */
    }
    holders.push({ pid: Number(pid), command });
  }
  return holders;
}

/** True when something already listens on ip:port (we try to bind it ourselves, then let go). */
export function portTaken(port: number, ip = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES'));
    server.listen({ port, host: ip, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** One line per taken port: which, what it is for, and who holds it when we can tell. */
export async function takenPorts(ports: ReadonlyArray<{ port: number; what: string; flag?: string }>, ip = '127.0.0.1'): Promise<string[]> {
  const problems: string[] = [];
  for (const { port, what, flag } of ports) {
    if (!(await portTaken(port, ip))) continue;
    const holders = portHolders(port);
    const who = holders.length
      ? ` by ${holders.map((h) => `pid ${h.pid} (${h.command.length > 120 ? `${h.command.slice(0, 120)}…` : h.command || 'unknown command'})`).join(', ')}`
      : '';
    problems.push(`port ${port} (${what}) on ${ip} is already in use${who}${flag ? `; stop it or choose another port with ${flag}` : ''}`);
  }
  return problems;
}
