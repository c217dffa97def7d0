// `${var}` in trigger rules (reference §2.4). The original rendered the whole rules text with Python's
// string.Template.safe_substitute before parsing the YAML: `$$` is a literal `$`, `$name`/`${name}`
// are replaced when the data has them, anything else stays as written (hence the bare `$in` keys).
// We substitute per YAML value instead, after parsing: a message field can then never add YAML
// structure to the rules (a package named `x, y]` stays one string), and a value that is exactly one
// reference keeps its type, so `$in: ${critpath_pkgs}` gets the list, as the rendered text did.

export type RulePart = { text: string } | { ref: string; source: string };

export interface RuleTemplate {
  parts: RulePart[];
  /** The value is exactly one reference: substitution may yield a list or a number. */
  whole?: string;
}

const TOKEN = /\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})/gi;

/** Parses a string value; `undefined` when it holds no `$` at all (the common case, kept as a literal). */
export function parseRuleTemplate(source: string): RuleTemplate | undefined {
  if (!source.includes('$')) return undefined;
  const parts: RulePart[] = [];
  let last = 0;
  let text = '';
  for (const m of source.matchAll(TOKEN)) {
    text += source.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[1]) {
      text += '$';
      continue;
    }
    if (text) parts.push({ text });
    text = '';
    parts.push({ ref: (m[2] ?? m[3])!, source: m[0] });
  }
  text += source.slice(last);
  if (text) parts.push({ text });
  const only = parts.length === 1 ? parts[0] : undefined;
  return { parts, ...(only && 'ref' in only ? { whole: only.ref } : {}) };
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  // What Python's str() of the value rendered into the YAML text would have read back as.
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')}]`;
  return String(value);
}

/** Renders against the trigger data: safe_substitute semantics, type-preserving for whole references. */
export function renderRuleTemplate(template: RuleTemplate, data: Readonly<Record<string, unknown>>): unknown {
  if (template.whole !== undefined) {
    return Object.hasOwn(data, template.whole) ? data[template.whole] : (template.parts[0] as { source: string }).source;
  }
  let out = '';
  for (const part of template.parts) {
    if ('text' in part) out += part.text;
    else out += Object.hasOwn(data, part.ref) ? asText(data[part.ref]) : part.source;
  }
  return out;
}

/** The names a template refers to. */
export function templateRefs(template: RuleTemplate | undefined): string[] {
  return template ? template.parts.flatMap((p) => ('ref' in p ? [p.ref] : [])) : [];
}
