// Reading, validating and writing ResultYAML (reference §1.7). Every problem is reported, not just
// the first, each with file, line, column and the dot-path of the key (`results[2].outcome`).
import { isAbsolute, relative, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, parseDocument, YAMLSeq, type Document, type Node } from 'yaml';
import { OUTCOMES } from '../common/job.js';
import { ITEM_TYPES } from '../formula/model.js';
import { isOutcome, RESERVED_KEYS, type KeyvalValue, type ResultEntry, type ResultYaml } from './model.js';
import { checkNameProblem } from './names.js';
import { describeNode, isEmptyValue, scalarText, YamlSource, type Checked, type Path } from './yaml-source.js';

export interface ResultYamlContext {
  /** Shown in diagnostics; default `results.yml`. */
  file?: string;
  /** When known, `artifact` paths are checked to stay inside it. */
  artifactsDir?: string;
  /** When known, a checkname that repeats it gets a warning. */
  namespace?: string;
}

const REQUIRED = {
  item: "the item that was tested, e.g. a Koji build NVR 'foo-1.0-1.fc40'",
  type: "the item's type, e.g. koji_build or bodhi_update",
  outcome: `one of ${OUTCOMES.join(', ')}`,
} as const;

export interface ParsedResultYaml extends Checked<ResultYaml> {
  /** Line and column of the value at a path such as `['results', 2, 'outcome']`, for later diagnostics. */
  locate: (path: Path) => { line: number; column: number };
}

/** Parses and validates ResultYAML text. An empty document has no results (as `results:` alone). */
export function parseResultYaml(text: string, context: ResultYamlContext = {}): ParsedResultYaml {
  const source = new YamlSource(text, context.file ?? 'results.yml');
  return { ...readResultYaml(source, context), locate: (path) => source.locate(path) };
}

function readResultYaml(source: YamlSource, context: ResultYamlContext): Checked<ResultYaml> {
  if (source.errors.length > 0) return source.result({ results: [] });
  const root = source.doc.contents;
  if (isEmptyValue(root)) return source.result({ results: [] });
  if (!isMap(root)) {
    source.error(root, [], `expected a mapping with a 'results' list, got ${describeNode(root)}`);
    return source.result({ results: [] });
  }

  let list: Node | null | undefined;
  let found = false;
  for (const pair of root.items) {
    const key = scalarText(pair.key);
    if (key === 'results') {
      found = true;
      list = pair.value as Node | null;
    } else {
      source.warning(pair.key as Node, [key ?? '?'], `unknown key '${key ?? '?'}' is ignored: ResultYAML has only 'results'`);
    }
  }
  if (!found) {
    source.error(root, [], "missing 'results': ResultYAML is a mapping with a 'results' list");
    return source.result({ results: [] });
  }
  if (isEmptyValue(list)) return source.result({ results: [] });
  if (!isSeq(list)) {
    source.error(list, ['results'], `expected a list of results, got ${describeNode(list)}`);
    return source.result({ results: [] });
  }

  const results: ResultEntry[] = [];
  list.items.forEach((node, index) => {
    const entry = readEntry(source, node as Node, ['results', index], context);
    if (entry) results.push(entry);
  });
  return source.result({ results });
}

function readEntry(source: YamlSource, node: Node, path: Path, context: ResultYamlContext): ResultEntry | undefined {
  if (!isMap(node)) {
    source.error(node, path, `expected a mapping (one result with item, type and outcome), got ${describeNode(node)}`);
    return undefined;
  }
  const fields = new Map<string, { key: Node; value: Node | null }>();
  const keyvals: Record<string, KeyvalValue> = {};
  let internal: Record<string, unknown> | undefined;
  let ok = true;

  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key as Node;
    const key = scalarText(keyNode);
    const value = pair.value as Node | null;
    if (key === undefined || key === '') {
      source.error(keyNode, path, 'a key must be non-empty text');
      ok = false;
      continue;
    }
    const here = [...path, key];
    if (key === 'results') {
      source.warning(keyNode, here, "'results' is a reserved key and is ignored inside a result");
    } else if (key === '_internal') {
      if (isEmptyValue(value)) continue;
      if (!isMap(value)) {
        source.error(value, here, `expected a mapping, got ${describeNode(value)}`);
        ok = false;
      } else {
        internal = value.toJSON() as Record<string, unknown>;
      }
    } else if ((RESERVED_KEYS as readonly string[]).includes(key)) {
      fields.set(key, { key: keyNode, value });
    } else {
      const kv = readKeyval(source, keyNode, value, here);
      if (kv === false) ok = false;
      else if (kv !== undefined) keyvals[key] = kv;
    }
  }

  const text = (name: string, required: boolean): string | undefined => {
    const field = fields.get(name);
    if (!field || isEmptyValue(field.value)) {
      if (required) {
        source.error(field?.key ?? node, [...path, name], `missing '${name}': ${REQUIRED[name as keyof typeof REQUIRED]}`);
        ok = false;
      }
      return undefined;
    }
    const value = scalarText(field.value);
    if (value === undefined) {
      source.error(field.value, [...path, name], `expected text, got ${describeNode(field.value)}`);
      ok = false;
      return undefined;
    }
    if (required && value.trim() === '') {
      source.error(field.value, [...path, name], `must not be empty: ${REQUIRED[name as keyof typeof REQUIRED]}`);
      ok = false;
      return undefined;
    }
    return value;
  };

  const item = text('item', true);
  const type = text('type', true);
  const outcomeText = text('outcome', true);
  const note = text('note', false);
  const checkname = text('checkname', false);
  const artifact = text('artifact', false);

  if (type !== undefined && !(ITEM_TYPES as readonly string[]).includes(type)) {
    source.warning(fields.get('type')?.value, [...path, 'type'], `'${type}' is not a known item type (${ITEM_TYPES.join(', ')}): ResultsDB stores it, but tools only understand the known ones`);
  }
  if (outcomeText !== undefined && !isOutcome(outcomeText)) {
    const upper = outcomeText.trim().toUpperCase();
    const hint = isOutcome(upper) ? ` — did you mean '${upper}'?` : '';
    source.error(fields.get('outcome')?.value, [...path, 'outcome'], `'${outcomeText}' is not an outcome: use one of ${OUTCOMES.join(', ')}${hint}`);
    ok = false;
  }
  if (checkname !== undefined) {
    const problem = checkNameProblem(checkname);
    if (problem) {
      source.error(fields.get('checkname')?.value, [...path, 'checkname'], `not a valid check name: ${problem}`);
      ok = false;
    } else if (context.namespace && checkname.startsWith(`${context.namespace}.`)) {
      source.warning(
        fields.get('checkname')?.value,
        [...path, 'checkname'],
        `'${checkname}' already starts with the namespace: it is reported as '${context.namespace}.${checkname}' (leave the namespace out)`,
      );
    }
  }
  if (artifact !== undefined && context.artifactsDir !== undefined && artifactOutside(context.artifactsDir, artifact)) {
    source.error(fields.get('artifact')?.value, [...path, 'artifact'], `'${artifact}' is outside the artifacts directory ${context.artifactsDir}: only files in it are published`);
    ok = false;
  }

  if (!ok || item === undefined || type === undefined || outcomeText === undefined || !isOutcome(outcomeText)) return undefined;
  return {
    item,
    type,
    outcome: outcomeText,
    ...(note !== undefined ? { note } : {}),
    ...(checkname !== undefined ? { checkname } : {}),
    ...(artifact !== undefined ? { artifact } : {}),
    keyvals,
    ...(internal ? { internal } : {}),
  };
}

/** The keyval's value; undefined to skip it; false when it is invalid. */
function readKeyval(source: YamlSource, keyNode: Node, value: Node | null, path: Path): KeyvalValue | undefined | false {
  const key = String(path[path.length - 1]);
  if (key.includes(':')) {
    source.error(keyNode, path, `keyval name '${key}' must not contain ':' (ResultsDB keeps it for ':like' queries)`);
    return false;
  }
  if (key.startsWith('_')) {
    source.warning(keyNode, path, `keyval names starting with '_' are reserved by ResultsDB and may not be searchable`);
  }
  if (isEmptyValue(value)) {
    source.warning(keyNode, path, `keyval '${key}' has no value and is not reported`);
    return undefined;
  }
  if (isScalar(value)) return scalarText(value) ?? '';
  if (isSeq(value)) {
    const values: string[] = [];
    let ok = true;
    value.items.forEach((element, i) => {
      const text = scalarText(element);
      if (text === undefined) {
        source.error(element as Node, [...path, i], `expected text or a number in a keyval list, got ${describeNode(element)}`);
        ok = false;
      } else {
        values.push(text);
      }
    });
    return ok ? values : false;
  }
  source.error(value, path, `a keyval is text, a number, true/false or a list of them, got ${describeNode(value)}`);
  return false;
}

/** Whether an artifact path leaves the artifacts directory (lexically; the reporter also resolves symlinks). */
export function artifactOutside(artifactsDir: string, artifact: string): boolean {
  const root = resolve(artifactsDir);
  const target = isAbsolute(artifact) ? resolve(artifact) : resolve(root, artifact);
  const rel = relative(root, target);
  return rel === '..' || rel.startsWith('../') || isAbsolute(rel);
}

/** One result as the plain mapping ResultYAML writes: reserved keys first, then keyvals. */
export function resultToYamlObject(entry: ResultEntry): Record<string, unknown> {
  return {
    item: entry.item,
    type: entry.type,
    outcome: entry.outcome,
    ...(entry.note !== undefined && entry.note !== '' ? { note: entry.note } : {}),
    ...(entry.checkname !== undefined ? { checkname: entry.checkname } : {}),
    ...(entry.artifact !== undefined ? { artifact: entry.artifact } : {}),
    ...entry.keyvals,
    ...(entry.internal && Object.keys(entry.internal).length > 0 ? { _internal: entry.internal } : {}),
  };
}

/** ResultYAML text for `entries` (block style, indent 2, like the original's export_YAML). */
export function formatResultYaml(entries: readonly ResultEntry[]): string {
  return appendToResultYaml('', entries);
}

/**
 * `existing` ResultYAML text with `entries` appended to its `results` list. Comments and the
 * author's formatting of existing entries survive. `existing` must already be valid ResultYAML.
 */
export function appendToResultYaml(existing: string, entries: readonly ResultEntry[]): string {
  const doc: Document = parseDocument(existing);
  if (isEmptyValue(doc.contents)) doc.contents = doc.createNode({ results: [] });
  let list = doc.get('results', true);
  if (!isSeq(list)) {
    list = new YAMLSeq();
    doc.set('results', list);
  }
  for (const entry of entries) (list as YAMLSeq).add(doc.createNode(resultToYamlObject(entry)));
  return doc.toString({ indent: 2, lineWidth: 0 });
}

