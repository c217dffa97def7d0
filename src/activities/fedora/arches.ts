// Which RPM arches a `koji` or `bodhi` action downloads (reference/taskotron.md §1.5). Pure.

/** Base arches and the concrete arches Koji files RPMs under (`i386` → `i[3-6]86`). */
const CONCRETE: Record<string, string[]> = {
  i386: ['i386', 'i486', 'i586', 'i686'],
  armhfp: ['armv7hl', 'armv7hnl'],
  ppc64: ['ppc64', 'ppc64p7'],
  x86_64: ['x86_64'],
};

export interface ArchSelection {
  /** Every arch the build has (`arch: all`): no filter in the Koji query. */
  all: boolean;
  /** The concrete arches asked for, when not `all`. */
  arches: string[];
  /** Arches whose RPMs are dropped. */
  exclude: string[];
  src: boolean;
}

export function asList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

function expand(arches: string[]): string[] {
  return [...new Set(arches.flatMap((a) => CONCRETE[a] ?? [a]))];
}

/**
 * `arch` and `arch_exclude` as the original read them: a string or a list; `all` = every arch;
 * `noarch` joins unless `all` or `noarch` is given or the list is empty; base arches expand to
 * concrete ones; `src: true` adds the SRPM. `bodhi` differs in one point: it adds `noarch` even to an
 * empty list, unless that empty list comes with `src: true` (`noarchUnlessOnlySrc`).
 */
export function selectArches(arch: unknown, archExclude: unknown, src: boolean, options: { noarchUnlessOnlySrc?: boolean } = {}): ArchSelection {
  const asked = asList(arch);
  const all = asked.includes('all');
  const arches = expand(asked.filter((a) => a !== 'all'));
  const addNoarch = options.noarchUnlessOnlySrc ? !(asked.length === 0 && src) : asked.length > 0;
  if (!all && addNoarch && !arches.includes('noarch')) arches.push('noarch');
  if (!all && src && !arches.includes('src')) arches.push('src');
  return { all, arches, exclude: expand(asList(archExclude)), src };
}

/** Whether an RPM of `rpmArch` is downloaded under `selection`. */
export function wanted(selection: ArchSelection, rpmArch: string): boolean {
  if (selection.exclude.includes(rpmArch)) return false;
  if (selection.all) return rpmArch !== 'src' || selection.src;
  return selection.arches.includes(rpmArch);
}

/** Debuginfo and debugsource subpackages, skipped unless `debuginfo: true`. */
export function isDebugPackage(name: string): boolean {
  return name.endsWith('-debuginfo') || name.endsWith('-debugsource') || name.includes('-debuginfo-');
}
