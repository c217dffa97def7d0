// Maps a path in the parsed data back to a line and column in the YAML text.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostic.js';

export interface Position {
  line: number;
  column: number;
}

/** What validation asks of a source map; the fast path's stand-in answers none of it. */
export type SourceLocator = Pick<SourceMap, 'at' | 'value' | 'key' | 'missing' | 'node'>;

export class SourceMap {
  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** Position of the value at `path` (or of its key when the value is empty or missing). */
  value(path: readonly PropertyKey[]): Position {
    const found = this.walk(path);
    const node = found.value ?? found.key ?? found.parent;
    return node?.range ? this.at(node.range[0]) : { line: 1, column: 1 };
  }

  /** Position of the key at the end of `path` (for unknown keys), else of the value. */
  key(path: readonly PropertyKey[]): Position {
    const found = this.walk(path);
    const node = found.key ?? found.value ?? found.parent;
    return node?.range ? this.at(node.range[0]) : { line: 1, column: 1 };
  }

  /** Position that best explains a key missing at `path`: the key of the enclosing mapping. */
  missing(path: readonly PropertyKey[]): Position {
    return path.length <= 1 ? { line: 1, column: 1 } : this.key(path.slice(0, -1));
  }

  /** The YAML node of the value at `path`, when there is one. */
  node(path: readonly PropertyKey[]): Node | undefined {
    return this.walk(path).value;
  }

  private walk(path: readonly PropertyKey[]): { value?: Node; key?: Node; parent?: Node } {
    let node: Node | undefined = (this.doc.contents ?? undefined) as Node | undefined;
    let key: Node | undefined;
    let parent: Node | undefined;
    for (const segment of path) {
      parent = node ?? parent;
      key = undefined;
      if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        node = isNodeLike(item) ? item : undefined;
      } else if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
        key = isNodeLike(pair?.key) ? pair.key : undefined;
        const value: unknown = pair?.value;
        node = isNodeLike(value) && !(isScalar(value) && value.value === null && value.source === '') ? value : undefined;
      } else {
        return { parent };
      }
      if (!node && !key) return { parent };
    }
    return { value: node, key, parent };
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function isNodeLike(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}

/**
 * The position-keeping parse every YAML input of the project goes through (formulas, taskotron.yaml):
 * the document, its source map, and YAML's own errors and warnings as diagnostics with file:line:column.
 */
export function parseLocatedYaml(
  text: string,
  file: string,
  options: { version?: '1.1' | '1.2' } = {},
): { doc: Document; map: SourceMap; errors: Diagnostic[]; warnings: Diagnostic[] } {
  const lines = new LineCounter();
  // logLevel 'error': YAML warnings become diagnostics, not process warnings on stderr.
  // version '1.1': trigger rules, which PyYAML read (yes/no are booleans there).
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error', ...options });
  const map = new SourceMap(doc, lines);
  const diagnostic = (severity: Diagnostic['severity'], e: { pos: [number, number]; message: string }): Diagnostic => ({
    severity,
    file,
    ...map.at(e.pos[0]),
    path: '',
    message: `YAML: ${e.message}`,
  });
  return { doc, map, errors: doc.errors.map((e) => diagnostic('error', e)), warnings: doc.warnings.map((w) => diagnostic('warning', w)) };
}
