// parse: the body text becomes a JSON value (the pixel arrives already parsed).
import type { Step } from '../context.js';
import { drop } from '../reasons.js';

export const parse: Step = (ctx) => {
  if (ctx.parsed !== undefined) return undefined;
  try {
    ctx.parsed = JSON.parse(ctx.text ?? '');
  } catch {
    return drop('malformed_json', 'body is not JSON');
  }
  return undefined;
};
