import { z } from 'zod';
import { Limits } from '../protocol';
import { invalidArgument } from './errors';

/**
 * Parses untrusted input (an HTTP body, query or socket payload) or throws INVALID_ARGUMENT
 * naming every offending field. Schemas are strict: unknown fields are refused, so a typo in a
 * client never silently does something else.
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 10).map((i) => ({
    path: i.path.join('.') || '(root)',
    message: i.message,
  }));
  throw invalidArgument(issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
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
