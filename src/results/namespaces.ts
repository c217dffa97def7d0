// Who may post results into which namespace (reference §1.8), configured in a namespaces.yaml file
// shaped like the original's /etc/taskotron/namespaces.yaml:
//
//   namespaces_safe: [scratch]            # anybody may post here
//   namespaces_whitelist:                 # only tasks from these repositories
//     dist: [https://pagure.io/taskotron/task-rpmlint]
//     pkg: [git://pkgs.fedoraproject.org/test-rpms/]
//
// A whitelist entry is a repository URL or a parent of one: `…/fedoraqa/` admits every repository
// under it, `…/rpmlint` admits `…/rpmlint`, `…/rpmlint/` and `…/rpmlint.git`, never `…/rpmlint-evil`.
// (The original compared raw string prefixes, which is why Fedora had to list each repository.)
import { readFileSync } from 'node:fs';
import { isMap, isSeq, type Node } from 'yaml';
import { checkNameProblem } from './names.js';
import { describeNode, isEmptyValue, scalarText, YamlSource, type Checked } from './yaml-source.js';

export interface NamespacePolicy {
  /** Namespaces any task may post into. */
  safe: string[];
  /** Namespace → repository URLs (or parents of them) whose tasks may post into it. */
  whitelist: Record<string, string[]>;
}

export type Authorisation =
  | { allowed: true; namespace: string; via: 'safe' | 'whitelist' }
  | { allowed: false; namespace?: string; reason: string };

const KEYS = ['namespaces_safe', 'namespaces_whitelist'] as const;

export function parseNamespacePolicy(text: string, file = 'namespaces.yaml'): Checked<NamespacePolicy> {
  const policy: NamespacePolicy = { safe: [], whitelist: {} };
  // Deployments template this file (Fedora's is Jinja2); an unrendered one gives baffling YAML errors.
  const templated = text.split('\n').findIndex((line) => /^[^#]*\{[{%]/.test(line));
  if (templated >= 0) {
    const line = text.split('\n')[templated]!;
    const message = 'the file still contains template syntax ({{ … }} or {% … %}): render it before use';
    return { errors: [{ severity: 'error', file, line: templated + 1, column: line.search(/\{[{%]/) + 1, path: '', message }], warnings: [] };
  }
  const source = new YamlSource(text, file);
  if (source.errors.length > 0) return source.result(policy);
  const root = source.doc.contents;
  if (isEmptyValue(root)) {
    source.warning(root, [], 'no namespaces are configured: no result may be posted');
    return source.result(policy);
  }
  if (!isMap(root)) {
    source.error(root, [], `expected a mapping with ${KEYS.join(' and ')}, got ${describeNode(root)}`);
    return source.result(policy);
  }
  for (const pair of root.items) {
    const key = scalarText(pair.key) ?? '?';
    const value = pair.value as Node | null;
    if (key === 'namespaces_safe') {
      policy.safe = stringList(source, value, [key], (ns, node, path) => checkNamespace(source, ns, node, path));
    } else if (key === 'namespaces_whitelist') {
      if (isEmptyValue(value)) continue;
      if (!isMap(value)) {
        source.error(value, [key], `expected a mapping of namespace to repository URLs, got ${describeNode(value)}`);
        continue;
      }
      for (const entry of value.items) {
        const ns = scalarText(entry.key) ?? '';
        checkNamespace(source, ns, entry.key as Node, [key, ns]);
        const repos = stringList(source, entry.value as Node | null, [key, ns], () => undefined);
        if (repos.length === 0) source.warning(entry.key as Node, [key, ns], `no repository may post into '${ns}'`);
        policy.whitelist[ns] = repos;
      }
    } else {
      source.warning(pair.key as Node, [key], `unknown key '${key}' is ignored: the file has ${KEYS.join(' and ')}`);
    }
  }
  for (const ns of policy.safe) {
    if (ns in policy.whitelist) source.warning(root, ['namespaces_whitelist', ns], `'${ns}' is also a safe namespace: anybody may post into it`);
  }
  return source.result(policy);
}

/** Reads and validates a namespaces.yaml file; a missing file is an error, not an empty policy. */
export function loadNamespacePolicy(path: string): Checked<NamespacePolicy> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return { errors: [{ severity: 'error', file: path, line: 1, column: 1, path: '', message: `cannot read the namespaces file: ${reason}` }], warnings: [] };
  }
  return parseNamespacePolicy(text, path);
}

/**
 * May a task from `taskRepo` post results under `testcase`? The longest configured namespace that
 * prefixes the testcase decides (`dist.rpmgrill.x` is in `dist`).
 */
export function authorise(policy: NamespacePolicy, testcase: string, taskRepo?: string): Authorisation {
  const within = (ns: string) => testcase.startsWith(`${ns}.`);
  const candidates = [...policy.safe.map((ns) => ({ ns, safe: true })), ...Object.keys(policy.whitelist).map((ns) => ({ ns, safe: false }))]
    .filter((c) => within(c.ns))
    .sort((a, b) => b.ns.length - a.ns.length || Number(b.safe) - Number(a.safe));
  const best = candidates[0];
  if (!best) {
    const safe = policy.safe.length > 0 ? policy.safe.join(', ') : 'none';
    const listed = Object.keys(policy.whitelist);
    return {
      allowed: false,
      reason: `no namespace for '${testcase}' exists: configured are ${safe} (anybody may post)${listed.length > 0 ? ` and ${listed.join(', ')} (whitelisted task repositories)` : ''}`,
    };
  }
  if (best.safe) return { allowed: true, namespace: best.ns, via: 'safe' };
  const prefixes = policy.whitelist[best.ns] ?? [];
  if (!taskRepo) {
    return { allowed: false, namespace: best.ns, reason: `only whitelisted task repositories may post into namespace '${best.ns}' ('${testcase}'), and this task has no repository URL` };
  }
  if (prefixes.some((prefix) => repoUnder(taskRepo, prefix))) return { allowed: true, namespace: best.ns, via: 'whitelist' };
  return {
    allowed: false,
    namespace: best.ns,
    reason: `task repository '${taskRepo}' may not post results into namespace '${best.ns}' ('${testcase}'); allowed are: ${prefixes.length > 0 ? prefixes.join(', ') : 'no repository'}`,
  };
}

/** Whether repository `url` is `prefix` itself or lies beneath it (path segments, not characters). */
export function repoUnder(url: string, prefix: string): boolean {
  const u = url.trim().replace(/\/+$/, '').replace(/\.git$/, '');
  const p = prefix.trim().replace(/\/+$/, '');
  if (p === '' || u.split('/').some((segment) => segment === '..' || segment === '.')) return false;
  return u === p || u === p.replace(/\.git$/, '') || u.startsWith(`${p}/`);
}

function checkNamespace(source: YamlSource, ns: string, node: Node | null | undefined, path: (string | number)[]): void {
  const problem = checkNameProblem(ns);
  if (problem) source.error(node, path, `not a valid namespace: ${problem}`);
}

function stringList(
  source: YamlSource,
  value: Node | null | undefined,
  path: (string | number)[],
  check: (text: string, node: Node, path: (string | number)[]) => void,
): string[] {
  if (isEmptyValue(value)) return [];
  if (!isSeq(value)) {
    source.error(value, path, `expected a list, got ${describeNode(value)}`);
    return [];
  }
  const out: string[] = [];
  value.items.forEach((item, i) => {
    const text = scalarText(item);
    if (text === undefined || text.trim() === '') {
      source.error(item as Node, [...path, i], `expected text, got ${describeNode(item)}`);
    } else {
      check(text, item as Node, [...path, i]);
      out.push(text.trim());
    }
  });
  return out;
}
