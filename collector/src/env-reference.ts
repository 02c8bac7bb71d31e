// The environment reference (docs/environment.md), made from the configuration
// code itself so it cannot drift from it: the variables, defaults and accepted
// values come from the zod schema in config.ts, each meaning from the doc
// comment written above its variable there (read from the source file: zod
// keeps no comments). `npm run env-reference` writes the file
// (cli/env-reference.ts); a unit test fails when the file differs from what
// this makes now.
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { z } from 'zod';
import { envSchema } from './config.js';
import { ROOT } from './paths.js';

export const CONFIG_SOURCE = join(ROOT, 'collector', 'src', 'config.ts');
export const REFERENCE_FILE = join(ROOT, 'docs', 'environment.md');

export type EnvVariable = {
  name: string;
  /** The default as text, or null when the variable has none (unset means off or derived, as its meaning says). */
  defaultValue: string | null;
  /** What the variable accepts, in words. */
  accepts: string;
  /** The doc comment above it in config.ts, on one line; '' when it has none. */
  meaning: string;
};

/** A schema node's parts, as zod 4 exposes them (the public types hide `def`). */
type Node = {
  def: { type: string; innerType?: Node; defaultValue?: unknown; options?: Node[]; values?: unknown[]; format?: string; checks?: Check[]; error?: unknown };
  options?: unknown[];
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
};
type Check = { _zod: { def: { check?: string; format?: string; error?: unknown; minimum?: number; maximum?: number } } };

/**
 * The doc comment right above each variable of the schema in config.ts's
 * source: `/** … *\/` ending on the line before `  NAME:`. A comment further up
 * (with code between) belongs to no variable; a variable with none of its own
 * points to the commented one its group starts with.
 */
export function docComments(source: string): Map<string, string> {
  const start = source.indexOf('const schema = z.object({');
  if (start < 0) throw new Error(`${CONFIG_SOURCE}: no "const schema = z.object({" found`);
  const end = source.indexOf('\n});', start);
  const lines = source.slice(start, end < 0 ? undefined : end).split('\n').slice(1);
  const out = new Map<string, string>();
  let comment: string[] | null = null;
  let pending: string | null = null;
  let leader: string | null = null;
  for (const line of lines) {
    const t = line.trim();
    if (comment) {
      comment.push(t);
      if (t.includes('*/')) {
        pending = commentText(comment);
        comment = null;
      }
      continue;
    }
    if (t.startsWith('/**')) {
      comment = [t];
      if (t.includes('*/')) {
        pending = commentText(comment);
        comment = null;
      }
      continue;
    }
    const key = /^\s{2}([A-Z][A-Z0-9_]*)\s*:/.exec(line);
    if (key) {
      // A variable without a comment of its own, right after others, is one of their group
      // (HTTP_*, GA4_API_SECRET after GA4_MEASUREMENT_ID): the group's first variable says what it is.
      if (pending !== null) leader = key[1]!;
      out.set(key[1]!, pending ?? (leader ? `See \`${leader}\`.` : ''));
    }
    pending = null;
  }
  return out;
}

function commentText(lines: string[]): string {
  return lines
    .map((l) => l.replace(/^\/\*\*/, '').replace(/\*\/$/, '').replace(/^\*\s?/, '').trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\s+/g, ' ');
}

/** The message a schema node or check was given (`'…'` or `{ error: '…' }`), if a plain one. */
function message(error: unknown): string | null {
  if (typeof error === 'string') return error;
  if (typeof error !== 'function') return null;
  try {
    const m: unknown = (error as (issue?: unknown) => unknown)();
    return typeof m === 'string' ? m : null;
  } catch {
    return null;
  }
}

/** Paths inside the package are shown from its root, so the text is the same on every machine. */
function shownDefault(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (text.startsWith(ROOT + sep)) return text.slice(ROOT.length + 1).split(sep).join('/');
  return text;
}

function accepts(node: Node): string {
  const d = node.def;
  const own = message(d.error);
  if (own) return own;
  switch (d.type) {
    case 'enum':
      return (node.options ?? []).map((o) => `\`${String(o)}\``).join(', ');
    case 'literal':
      return (d.values ?? []).map((v) => `\`${String(v)}\``).join(', ');
    case 'union':
      return (d.options ?? []).map(accepts).join(' or ');
    case 'number': {
      const kind = node.isInt ? 'an integer' : 'a number';
      return node.minValue != null && node.maxValue != null ? `${kind} from ${node.minValue} to ${node.maxValue}` : kind;
    }
    case 'string': {
      if (d.format === 'url') return 'a URL';
      // A refinement's message may name what is refused (IDENTITY_KEY's published key), not what is
      // accepted: shown only when the refinement is the whole rule (METRIKA_TIMEZONE).
      const said = (checks: Check[]) => checks.map((c) => message(c._zod.def.error)).filter((m): m is string => m !== null);
      const all = d.checks ?? [];
      const plain = said(all.filter((c) => c._zod.def.check !== 'custom'));
      const rule = plain.length ? plain : said(all);
      return rule.length ? rule.join('; ') : 'text';
    }
    default:
      return d.type;
  }
}

/** Every variable of the schema, in its order, with what the reference says of it. */
export function environmentVariables(source = readFileSync(CONFIG_SOURCE, 'utf8')): EnvVariable[] {
  const comments = docComments(source);
  const shape = (envSchema as unknown as z.ZodObject).shape as Record<string, unknown>;
  const missing = Object.keys(shape).filter((k) => !comments.has(k));
  if (missing.length) throw new Error(`${CONFIG_SOURCE}: variables not found in the schema's source text: ${missing.join(', ')}`);
  return Object.entries(shape).map(([name, schema]) => {
    let node = schema as Node;
    let defaultValue: string | null = null;
    while (node.def.type === 'default' || node.def.type === 'optional') {
      if (node.def.type === 'default') defaultValue = shownDefault(node.def.defaultValue);
      node = node.def.innerType!;
    }
    return { name, defaultValue, accepts: accepts(node), meaning: comments.get(name)! };
  });
}

const cell = (text: string) => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => (text === '' ? 'empty' : text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/** docs/environment.md as it should be now. */
export function environmentReference(source?: string): string {
  const rows = environmentVariables(source).map(
    (v) => `| \`${v.name}\` | ${v.defaultValue === null ? '—' : cell(code(v.defaultValue))} | ${cell(v.accepts)} | ${cell(v.meaning)} |`,
  );
  return [
    '# Environment variables of the collector',
    '',
    '<!-- Generated from collector/src/config.ts by `npm run env-reference`; edit the comments there, not this file. -->',
    '',
    'Every variable the collector reads (`collector/src/config.ts`), in the order declared there. They are',
    'checked at start: a bad value stops the collector with a message naming the variable (exit code 78).',
    'An empty variable counts as unset. Defaults that are paths are relative to the directory the collector',
    'is installed in (the one holding its `package.json`). "—": no default; unset, the feature is off or the',
    'value is derived, as the meaning says.',
    '',
    '| variable | default | accepts | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
