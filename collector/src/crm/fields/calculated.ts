// Calculated fields: arithmetic over a deal's numeric fields (e.g. margin =
// amount - cost). Formulas are parsed by mathjs and then checked node by node:
// only numbers, declared variables, + - * / ^ %, unary minus, parentheses and a
// few pure functions pass. Nothing is ever handed to eval; a formula that fails
// the check, or throws when tried once on sample numbers, is refused when the
// configuration is loaded, so it cannot fail on every deal later. A variable is
// a declared one (an own key of `variables`): constructor or toString are not.
import { parse, type MathNode } from 'mathjs';

const OPERATORS = new Set(['+', '-', '*', '/', '^', '%']);
const FUNCTIONS = new Set(['min', 'max', 'abs', 'round', 'floor', 'ceil']);

export type CalculatedField = {
  name: string;
  formula: string;
  /** Formula variable → CRM field (name, id or code). `amount` is the deal amount in major units. */
  variables: Record<string, string>;
};

export type CompiledFormula = {
  name: string;
  symbols: string[];
  /** A Map, not an object: a variable's name is never read off a prototype. */
  evaluate(scope: Map<string, number>): number;
};

/** Parses and checks a formula; throws an Error whose message says what is wrong. */
export function compileFormula(field: CalculatedField): CompiledFormula {
  let root: MathNode;
  try {
    root = parse(field.formula);
  } catch (err) {
    throw new Error(`formula of "${field.name}" does not parse: ${(err as Error).message}`);
  }
  const symbols = new Set<string>();
  const problems: string[] = [];
  root.traverse((node, _path, parent) => {
    switch (node.type) {
      case 'ConstantNode': {
        const value = (node as unknown as { value: unknown }).value;
        if (typeof value !== 'number') problems.push(`only numbers may appear as constants, not ${JSON.stringify(value)}`);
        break;
      }
      case 'ParenthesisNode':
        break;
      case 'OperatorNode': {
        const op = (node as unknown as { op: string }).op;
        if (!OPERATORS.has(op)) problems.push(`operator "${op}" is not allowed`);
        break;
      }
      case 'FunctionNode': {
        const fn = (node as unknown as { fn: MathNode & { name?: string } }).fn;
        if (fn.type !== 'SymbolNode' || !FUNCTIONS.has(fn.name ?? '')) problems.push(`function "${fn.name ?? '?'}" is not allowed`);
        break;
      }
      case 'SymbolNode': {
        const name = (node as unknown as { name: string }).name;
        // The function name of a FunctionNode is a SymbolNode too; it was checked above.
        if (parent?.type === 'FunctionNode' && (parent as unknown as { fn: MathNode }).fn === node) break;
        if (name !== 'amount' && !Object.hasOwn(field.variables, name)) problems.push(`unknown variable "${name}" (declare it in variables)`);
        symbols.add(name);
        break;
      }
      default:
        problems.push(`${node.type} is not allowed`);
    }
  });
  if (problems.length) throw new Error(`formula of "${field.name}": ${[...new Set(problems)].join('; ')}`);
  const code = root.compile();
  const compiled: CompiledFormula = {
    name: field.name,
    symbols: [...symbols],
    evaluate(scope) {
      const out: unknown = code.evaluate(new Map(scope));
      if (typeof out !== 'number' || !Number.isFinite(out)) throw new Error(`"${field.name}" gave no finite number`);
      return out;
    },
  };
  // A trial run: a formula mathjs refuses to evaluate (`round(1, 2, 3)`) is a
  // configuration mistake. A non-finite result on sample numbers (1 / (x - 1)) is not: real deals differ.
  try {
    code.evaluate(new Map(compiled.symbols.map((s) => [s, 1])));
  } catch (err) {
    throw new Error(`formula of "${field.name}" cannot be evaluated: ${(err as Error).message}`);
  }
  return compiled;
}

/** A field value as a number: `1 234,50` and `1234.50` both read as 1234.5; null when not numeric. */
export function toNumber(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const s = raw.replace(/[\s\u00a0]/g, '').replace(',', '.');
  if (!/^-?\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}
