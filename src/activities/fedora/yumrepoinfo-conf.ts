// yumrepoinfo.conf: Fedora's repositories in Python ConfigParser syntax (corpus/config/yumrepoinfo.conf).
// Sections and keys are read by `ini`; ConfigParser's own `%(name)s` interpolation, looked up in the
// section and then in [DEFAULT], is done here, with `arch` supplied by the caller and `baseurl`
// switched to `baseurl_altarch` for the file's alternate arches, as the original did.
import { readFile } from 'node:fs/promises';
import { parse } from 'ini';

export interface RepoInfo {
  path: string;
  sections: Map<string, Record<string, string>>;
  defaults: Record<string, string>;
}

function lowerKeys(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => typeof v !== 'object').map(([k, v]) => [k.toLowerCase(), String(v)]));
}

export async function loadRepoInfo(path: string): Promise<RepoInfo> {
  const parsed = parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const sections = new Map<string, Record<string, string>>();
  let defaults: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'object' || value === null) continue;
    if (name === 'DEFAULT') defaults = lowerKeys(value as Record<string, unknown>);
    else sections.set(name, lowerKeys(value as Record<string, unknown>));
  }
  return { path, sections, defaults };
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(/[,\s]+/).filter(Boolean);
}

/** A key of `section` with `%(name)s` expanded, for one arch. */
export function repoValue(info: RepoInfo, section: string, key: string, arch: string): string {
  const own = info.sections.get(section);
  if (!own) throw new Error(`${info.path}: no section [${section}]`);
  const alternate = list(info.defaults.alternate_arches).includes(arch);
  const lookup = (name: string): string | undefined => {
    if (name === 'arch') return arch;
    if (name === 'baseurl' && alternate) return own.baseurl_altarch ?? info.defaults.baseurl_altarch;
    return own[name] ?? info.defaults[name];
  };
  const expand = (text: string, depth: number): string => {
    if (depth > 10) throw new Error(`${info.path}: [${section}] ${key}: interpolation nests too deeply`);
    return text.replace(/%\((\w+)\)s/g, (_m, name: string) => {
      const value = lookup(name.toLowerCase());
      if (value === undefined) throw new Error(`${info.path}: [${section}] ${key}: '%(${name})s' refers to nothing`);
      return expand(value, depth + 1);
    }).replace(/%%/g, '%');
  };
  const raw = lookup(key);
  if (raw === undefined) throw new Error(`${info.path}: [${section}] has no '${key}'`);
  return expand(raw, 0);
}

/** The section for a Koji tag: its own name, or the section whose `tag` it is (rawhide ↔ f29). */
export function sectionForTag(info: RepoInfo, tag: string): string | undefined {
  if (info.sections.has(tag)) return tag;
  for (const [name, values] of info.sections) if (values.tag === tag) return name;
  return undefined;
}

/** The section of the rawhide release, if the file names one. */
export function rawhideSection(info: RepoInfo): string | undefined {
  for (const [name, values] of info.sections) if (values.release_status === 'rawhide') return name;
  return undefined;
}
