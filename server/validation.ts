import { z } from 'zod';
import { Limits } from '../protocol';
import { invalidArgument } from './errors';

/**
 * Parses untrusted input (an HTTP body, query or socket payload) or throws INVALID_ARGUMENT
 * naming every offending field. Schemas are strict: unknown fields are refused, so a typo in a
 * client never silently does something else.
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(input);
  } catch (err) {
    // zod reads `length` of any object that has one: `{"length": {"toString": 1}}` makes it throw.
    if (err instanceof TypeError) throw refused('(root)', 'cannot be read');
    throw err;
  }
  if (result.success) {
    // Postgres text cannot hold NUL: refused here rather than failing the statement (INTERNAL).
    const at = nulAt(result.data);
    if (at !== undefined) throw refused(at, 'must not contain NUL characters');
    return result.data;
  }
  const issues = result.error.issues.slice(0, 10).map((i) => ({
    path: i.path.join('.') || '(root)',
    message: i.message,
  }));
  throw invalidArgument(issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
}

const refused = (path: string, message: string) =>
  invalidArgument(`${path}: ${message}`, { issues: [{ path, message }] });

/** The top-level field of a parsed value holding a string (or key) with a NUL character, if any. */
function nulAt(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '(root)']];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return at;
    } else if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
      for (const [key, child] of Object.entries(v)) {
        const field = at === '(root)' ? key : at;
        if (key.includes('\u0000')) return field;
        stack.push([child, field]);
      }
    }
  }
  return undefined;
}

// Shared field schemas: one definition of what a valid id, amount, tag or key is.
export const id = z.uuid({ message: 'must be a UUID' });
export const money = (max: number) => z.number().int('must be an integer number of minor units').min(1).max(max);
export const tag = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(Limits.tagMax)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} _.+#-]*$/u, 'tags are letters, digits, space and _.+#-');
export const tags = z
  .array(tag)
  .max(Limits.tagsMax)
  .transform((t) => [...new Set(t)]);
export const title = z.string().trim().min(1).max(Limits.titleMax);
export const idempotencyKey = z
  .string()
  .min(8, 'an idempotency key has at least 8 characters')
  .max(Limits.idempotencyKeyMax)
  .regex(/^[\x21-\x7e]+$/, 'an idempotency key is printable ASCII without spaces');
