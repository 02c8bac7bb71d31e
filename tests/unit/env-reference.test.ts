// docs/environment.md is made from collector/src/config.ts (env-reference.ts):
// it must be what the generator makes now, name every variable of the schema,
// give each a meaning, and read the same on every machine.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../collector/src/config.js';
import { CONFIG_SOURCE, docComments, environmentReference, environmentVariables, REFERENCE_FILE } from '../../collector/src/env-reference.js';
import { ROOT } from '../../collector/src/paths.js';

const keys = Object.keys(envSchema.shape);

describe('environment reference (docs/environment.md)', () => {
  it('is what the generator makes from config.ts now', () => {
    const onDisk = readFileSync(REFERENCE_FILE, 'utf8');
    const now = environmentReference();
    if (onDisk !== now) {
      const a = onDisk.split('\n');
      const b = now.split('\n');
      const at = a.findIndex((line, i) => line !== b[i]);
      const line = at < 0 ? Math.min(a.length, b.length) : at;
      const shown = `first difference, line ${line + 1}:\n  file: ${a[line] ?? '(end)'}\n  now:  ${b[line] ?? '(end)'}`;
      expect.fail(`docs/environment.md is out of date: run npm run env-reference\n${shown}`);
    }
  });

  it('has one row per variable the configuration reads, in its order', () => {
    const rows = [...readFileSync(REFERENCE_FILE, 'utf8').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(keys);
    expect(keys.length).toBeGreaterThan(50);
  });

  it('gives every variable a meaning: a doc comment above it in config.ts, or its group’s', () => {
    const without = environmentVariables()
      .filter((v) => v.meaning === '')
      .map((v) => v.name);
    expect(without, 'write a /** … */ comment above these variables in collector/src/config.ts').toEqual([]);
  });

  it('shows defaults, accepted values and meanings from the schema and its comments', () => {
    const byName = new Map(environmentVariables().map((v) => [v.name, v]));
    expect(byName.get('THROUGHLINE_PORT')).toMatchObject({ defaultValue: '8080', accepts: 'an integer from 0 to 65535', meaning: 'Port to listen on.' });
    expect(byName.get('IP_MODE')).toMatchObject({ defaultValue: 'hash', accepts: '`hash`, `anonymize`' });
    expect(byName.get('BATCH_MAX_BYTES')?.defaultValue).toBe(String(8 * 1024 * 1024));
    expect(byName.get('CLICKHOUSE_URL')?.accepts).toBe("a ClickHouse server's URL (http://host:8123) or embedded");
    // No default: unset is a state of its own (off, or derived).
    expect(byName.get('REPORTS_TOKEN')?.defaultValue).toBeNull();
    expect(byName.get('CLICKHOUSE_PASSWORD')?.defaultValue).toBe('');
    // A refinement naming what is refused is not shown as what is accepted.
    expect(byName.get('IDENTITY_KEY')?.accepts).toBe('at least 16 characters');
    expect(byName.get('METRIKA_TIMEZONE')?.accepts).toBe('an IANA time zone such as Europe/Moscow');
    // Group members point to the variable their group's comment sits above.
    expect(byName.get('GA4_API_SECRET')?.meaning).toBe('See `GA4_MEASUREMENT_ID`.');
  });

  it('reads the same on every machine: paths in the package are shown from its root', () => {
    const text = environmentReference();
    expect(text).not.toContain(ROOT);
    expect(text).toMatch(/^\| `CLICKHOUSE_DATA` \| `data\/clickhouse` \|/m);
  });

  it('escapes what would break a table row', () => {
    const source = readFileSync(CONFIG_SOURCE, 'utf8').replace('/** Port to listen on. */', '/** a | b \\ c */');
    expect(environmentReference(source)).toContain('| `THROUGHLINE_PORT` | `8080` | an integer from 0 to 65535 | a \\| b \\\\ c |');
  });

  it('refuses a source that lacks a variable of the schema, rather than leave it out', () => {
    const source = `const schema = z.object({\n  /** Address. */\n  THROUGHLINE_HOST: z.string(),\n});`;
    expect(() => environmentReference(source)).toThrow(/not found in the schema's source text: THROUGHLINE_PORT/);
  });
});

describe('reading the doc comments of config.ts', () => {
  const source = [
    "import { z } from 'zod';",
    '/** Not in the schema. */',
    'const schema = z.object({',
    '  /** One line. */',
    "  A: z.string().default('x'),",
    '  /**',
    '   * Several',
    '   * lines.',
    '   */',
    '  B: z',
    '    .string()',
    '    .optional(),',
    '  C: z.string(),',
    '  /** Mid-expression, then code: belongs to nothing. */',
    '  x: 1,',
    '  D: z.string(),',
    '});',
    '/** After the schema. */',
    'const E = 1;',
  ].join('\n');

  it('attaches each comment to the variable right below it, a group’s to those after it', () => {
    expect(Object.fromEntries(docComments(source))).toEqual({
      A: 'One line.',
      B: 'Several lines.',
      C: 'See `B`.',
      D: 'See `B`.',
    });
  });

  it('refuses a source without the schema', () => {
    expect(() => docComments('export const x = 1;')).toThrow(/const schema = z\.object/);
  });
});
