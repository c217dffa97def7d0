// NVRs and RPM version order, as Koji and rpm see them. Pure.

export interface Nvr {
  name: string;
  version: string;
  release: string;
  epoch?: number;
}

/** `foo-bar-1.0-1.fc40` (optionally `2:foo-…` or `foo-…:` Koji-style epoch) → its parts; undefined if not an NVR. */
export function parseNvr(nvr: string): Nvr | undefined {
  let text = nvr.trim();
  let epoch: number | undefined;
  const prefixed = /^(\d+):(.+)$/.exec(text);
  if (prefixed) {
    epoch = Number(prefixed[1]);
    text = prefixed[2]!;
  }
  const match = /^(.+)-([^-]+)-([^-]+)$/.exec(text);
  if (!match) return undefined;
  let version = match[2]!;
  const inner = /^(\d+):(.+)$/.exec(version);
  if (inner) {
    epoch = Number(inner[1]);
    version = inner[2]!;
  }
  return { name: match[1]!, version, release: match[3]!, ...(epoch !== undefined ? { epoch } : {}) };
}

/** The last Fedora dist tag in a release, as a Koji tag: `1.fc29` → `f29`, `1.fc40.1` → `f40`. */
export function fedoraTagOf(release: string): string | undefined {
  const all = [...release.matchAll(/fc(\d+)/g)];
  const last = all.at(-1);
  return last ? `f${last[1]}` : undefined;
}

/** rpm's rpmvercmp: alternating runs of digits and letters compared run by run; `~` sorts before anything, `^` after. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const sep = /[^A-Za-z0-9~^]/;
  while (i < a.length || j < b.length) {
    while (i < a.length && sep.test(a[i]!)) i++;
    while (j < b.length && sep.test(b[j]!)) j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = /\d/.test(a[i]!);
    const run = numeric ? /^\d+/ : /^[A-Za-z]+/;
    const ra = run.exec(a.slice(i))?.[0] ?? '';
    const rb = run.exec(b.slice(j))?.[0] ?? '';
    if (rb === '') return numeric ? 1 : -1;
    i += ra.length;
    j += rb.length;
    if (numeric) {
      const na = ra.replace(/^0+/, '');
      const nb = rb.replace(/^0+/, '');
      if (na.length !== nb.length) return na.length > nb.length ? 1 : -1;
      if (na !== nb) return na > nb ? 1 : -1;
    } else if (ra !== rb) {
      return ra > rb ? 1 : -1;
    }
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Epoch, then version, then release. */
export function compareEvr(a: Nvr, b: Nvr): number {
  const epoch = (a.epoch ?? 0) - (b.epoch ?? 0);
  if (epoch !== 0) return Math.sign(epoch);
  return rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}
