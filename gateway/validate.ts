/**
 * Request validation with zod. A body or query of the wrong shape is a client error: 400 `invalid-request`
 * whose message names the first bad field (`evidence[0].reference: Required`). Rule violations on a
 * well-formed request (no evidence, review date too late, …) are `rules/`' business and answered 422.
 */
import type { z } from 'zod';
import { BadRequest } from './errors';

type Issue = z.core.$ZodIssue;

/** `['evidence', 0, 'reference']` → `evidence[0].reference`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** The value found at `path` in `root`, or `undefined` when the path does not exist. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** One line for the first issue: the field, then what is wrong with it ("Required" for a missing field). */
function describe(issue: Issue, root: unknown, where: string): string {
  const field = formatPath(issue.path) || where;
  const missing = issue.code === 'invalid_type' && valueAt(root, issue.path) === undefined;
  return `${field}: ${missing ? 'Required' : issue.message}`;
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw new BadRequest('invalid-request', first ? describe(first, value, where) : `${where}: Invalid`);
}

/**
 * Validates a request body.
 * @throws BadRequest `invalid-request` naming the first bad field.
 */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  return parseWith(schema, value, 'body');
}

/**
 * Validates a query string object (`req.query`).
 * @throws BadRequest `invalid-request` naming the first bad parameter.
 */
export function parseQuery<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  return parseWith(schema, value, 'query');
}
