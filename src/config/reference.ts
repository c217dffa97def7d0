// What is generated from the configuration schema: schema/taskotron-config.schema.json (for editors)
// and the settings table of docs/operations.md. A test keeps both in sync (`npm run schema`).
import { z } from 'zod';
import { configLeaves, loadConfig, valueAt, type Source } from './load.js';
import { TaskotronConfigSchema } from './schema.js';

export function configJsonSchema(): object {
  return z.toJSONSchema(TaskotronConfigSchema, {
    target: 'draft-2020-12',
    io: 'input',
    // host:port-or-false is checked in code; the JSON Schema says the same with a union.
    override: (ctx) => {
      const meta = z.globalRegistry.get(ctx.zodSchema as unknown as z.ZodType) as { format?: string; description?: string } | undefined;
      if (meta?.format === 'listen') {
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[key];
        Object.assign(ctx.jsonSchema, {
          description: meta.description,
          anyOf: [{ type: 'string', pattern: '^(?:\\[[0-9a-fA-F:.]+\\]|[^\\s:]+):[0-9]{1,5}$' }, { const: false }],
        });
      }
    },
    unrepresentable: 'any',
  });
}

export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

function defaultText(value: unknown, source: Source | undefined): string {
  if (source?.kind === 'default' && source.derivedFrom) return `from ${source.derivedFrom}`;
  if (value === undefined) return '—';
  return `\`${JSON.stringify(value)}\``;
}

/** Markdown table: every setting, its variables, its default and what it does. */
export function configSettingsTable(): string {
  const defaults = loadConfig({ env: {} });
  const rows = configLeaves().map((leaf) => {
    const key = leaf.path.join('.');
    const value = valueAt(defaults.value!, leaf.path);
    const description = (leaf.description ?? '').replace(/\|/g, '\\|');
    return `| \`${key}\` | ${leaf.env.map((e) => `\`${e}\``).join(', ')} | ${defaultText(value, defaults.sources.get(key)).replace(/\|/g, '\\|')} | ${description} |`;
  });
  return ['| key | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
