// Renders the reference tables of docs/task-formula.md from the generated JSON Schema, so the
// docs cannot disagree with the validator. Pure: string in, string out.
import { DIRECTIVE_NAMES } from './model.js';
import { formulaJsonSchema, PARAM_RULES } from './schema.js';
import { DURATION_PATTERN } from './duration.js';

type Json = Record<string, unknown>;

/** Generated regions of the docs, by marker name. */
export function referenceRegions(schema: Json = formulaJsonSchema()): Record<string, string> {
  const defs = (schema.$defs ?? {}) as Record<string, Json>;
  const action = defs.action ?? {};
  const actionProps = (action.properties ?? {}) as Record<string, Json>;
  const directiveNames = new Set<string>([...DIRECTIVE_NAMES, 'bash']);
  const retry = actionProps.retry ?? {};
  return {
    'top-level-keys': table(schema, defs),
    'action-keys': table(action, defs, (k) => !directiveNames.has(k)),
    'retry-keys': table(retry, defs),
    directives: DIRECTIVE_NAMES.map((d) => directiveSection(d, actionProps[d] ?? {}, defs)).join('\n'),
  };
}

function directiveSection(name: string, schema: Json, defs: Record<string, Json>): string {
  const lines = [`### \`${name}\``, '', String(schema.description ?? ''), ''];
  if (schema.type === 'object' || schema.properties) {
    lines.push(table(schema, defs));
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      lines.push('', `Any other key: ${String((schema.additionalProperties as Json).description ?? 'allowed')}`);
    }
  } else {
    lines.push(`Value: ${typeOf(schema, defs)}.`);
  }
  const rules = PARAM_RULES[name as keyof typeof PARAM_RULES];
  const notes: string[] = [];
  for (const group of rules?.exactlyOne ?? []) notes.push(`exactly one of ${group.map((k) => `\`${k}\``).join(', ')}`);
  for (const [value, keys] of Object.entries(rules?.requiredWhen?.required ?? {})) {
    notes.push(`${keys.map((k) => `\`${k}\``).join(', ')} required when \`${rules?.requiredWhen?.key ?? ''}: ${value}\``);
  }
  for (const [a, b] of rules?.sameLength ?? []) notes.push(`\`${a}\` and \`${b}\` have the same length`);
  if (notes.length) lines.push('', `Rules: ${notes.join('; ')}.`);
  lines.push('');
  return lines.join('\n');
}

function table(schema: Json, defs: Record<string, Json>, include: (key: string) => boolean = () => true): string {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  // `oneOf: [{required: [actions]}, {required: [task]}]`: the non-deprecated alternative is required.
  for (const alt of (schema.oneOf ?? []) as Json[]) {
    for (const key of (alt.required ?? []) as string[]) if (!(props[key] ?? {}).deprecated) required.add(key);
  }
  const rows = Object.entries(props)
    .filter(([k]) => include(k))
    .map(([key, p]) => {
      const notes = [String(p.description ?? '')];
      if (p.default !== undefined) notes.push(`Default: \`${JSON.stringify(p.default)}\`.`);
      const req = required.has(key) ? 'yes' : p.deprecated ? 'deprecated' : 'no';
      return `| \`${key}\` | ${typeOf(p, defs)} | ${req} | ${notes.join(' ').replaceAll('|', '\\|')} |`;
    });
  return ['| key | type | required | description |', '|---|---|---|---|', ...rows].join('\n');
}

function typeOf(schema: Json, defs: Record<string, Json>): string {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/$defs/', '');
    return name === 'action' ? 'action' : typeOf(defs[name] ?? {}, defs);
  }
  if (Array.isArray(schema.anyOf)) {
    const kinds = (schema.anyOf as Json[]).map((s) => typeOf(s, defs));
    return [...new Set(kinds)].join(' or ');
  }
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map((v) => `\`${String(v)}\``).join(' \\| ');
  const type = schema.type;
  if (Array.isArray(type)) return type.join('/');
  switch (type) {
    case 'string':
      if (schema.pattern === DURATION_PATTERN) return 'duration';
      if (typeof schema.pattern === 'string' && schema.pattern.startsWith('^\\$')) return '`${var}`';
      return 'string';
    case 'array': {
      const items = typeOf((schema.items ?? {}) as Json, defs);
      return `list of ${items.includes(' or ') ? `(${items})` : items}`;
    }
    case 'object':
      return schema.properties && Object.keys(schema.properties).length === 1
        ? `{${Object.keys(schema.properties).join(', ')}: …}`
        : 'mapping';
    case 'boolean':
      return 'true/false';
    case 'integer':
      return 'integer';
    default:
      return String(type ?? 'any');
  }
}

/** Replaces the text between `<!-- BEGIN GENERATED: id -->` and `<!-- END GENERATED: id -->`. */
export function fillGeneratedRegions(markdown: string, regions: Record<string, string>): string {
  let out = markdown;
  for (const [id, body] of Object.entries(regions)) {
    const begin = `<!-- BEGIN GENERATED: ${id} -->`;
    const end = `<!-- END GENERATED: ${id} -->`;
    const from = out.indexOf(begin);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs have no generated region '${id}'`);
    out = `${out.slice(0, from + begin.length)}\n${body.trimEnd()}\n${out.slice(to)}`;
  }
  return out;
}

/** The JSON Schema file's exact text. */
export function renderJsonSchema(): string {
  return `${JSON.stringify(formulaJsonSchema(), null, 2)}\n`;
}
