import { randomBytes } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import { z } from 'zod';
import type { Principal } from '../auth';
import type { DB, WebhookDeliveriesTable, WebhooksTable } from '../db';
import { AppError, conflict, forbidden, invalidArgument, notFound } from '../errors';
import { id, parse } from '../validation';
import { PrivateAddressError, publicAddressesOf } from './address-guard';
import {
  WEBHOOK_EVENTS,
  type Webhook,
  type WebhookDelivery,
  type WebhookEventType,
  type WebhookPayload,
} from './types';

/** Registration and inspection of webhooks and their deliveries (the HTTP API's side). */
export interface WebhookRegistry {
  /** Registers a webhook; the secret is returned here and never again. */
  register(actor: Principal, input: unknown): Promise<{ webhook: Webhook; secret: string }>;
  /** The actor's webhooks (an admin's list has everyone's). */
  list(actor: Principal): Promise<Webhook[]>;
  get(actor: Principal, webhookId: string): Promise<Webhook>;
  /** Deletes the webhook and its deliveries; pending ones are not sent. */
  remove(actor: Principal, webhookId: string): Promise<void>;
  deliveries(actor: Principal, webhookId: string, query: unknown): Promise<WebhookDelivery[]>;
  delivery(
    actor: Principal,
    webhookId: string,
    deliveryId: string,
  ): Promise<WebhookDelivery & { payload: WebhookPayload }>;
  /** Sends a finished (failed or succeeded) delivery once more, now. */
  redeliver(actor: Principal, webhookId: string, deliveryId: string): Promise<WebhookDelivery>;
}

export const MAX_WEBHOOKS_PER_OWNER = 20;
const URL_MAX = 2048;

export const registerSchema = z.strictObject({
  url: z.string().trim().min(1).max(URL_MAX),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .transform((e) => [...new Set(e)]),
  description: z.string().trim().max(200).default(''),
  scope: z.enum(['creator', 'platform']).default('creator'),
});

export const deliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export const toWebhook = (row: Selectable<WebhooksTable>): Webhook => ({
  id: row.id,
  ownerId: row.owner_id,
  scope: row.scope,
  url: row.url,
  events: row.events as WebhookEventType[],
  description: row.description,
  createdAt: row.created_at.toISOString(),
});

export const toDelivery = (row: Omit<Selectable<WebhookDeliveriesTable>, 'body'>): WebhookDelivery => ({
  id: row.id,
  webhookId: row.webhook_id,
  eventId: row.event_id,
  eventType: row.event_type as WebhookEventType,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  createdAt: row.created_at.toISOString(),
  lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
  nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
  deliveredAt: row.delivered_at?.toISOString() ?? null,
});

/** A new secret: 32 random bytes; receivers use the whole string, prefix included, as the HMAC key. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/**
 * Validates a webhook URL: http(s), no credentials in it, and (unless private addresses are
 * allowed) a host that resolves to public addresses only.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidArgument('url: must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument('url: must be http or https');
  if (url.username || url.password) throw invalidArgument('url: must not contain credentials');
  if (!url.hostname) throw invalidArgument('url: needs a host');
  url.hash = '';
  if (!allowPrivate) {
    try {
      await publicAddressesOf(url.hostname);
    } catch (err) {
      if (err instanceof PrivateAddressError) throw invalidArgument(`url: ${err.message}`);
      throw invalidArgument(`url: cannot resolve ${url.hostname}`);
    }
  }
  return url.toString();
}

export function createWebhookRegistry(deps: { db: Kysely<DB>; allowPrivateUrls: boolean }): WebhookRegistry {
  const { db } = deps;

  function requireWebhookUser(actor: Principal): void {
    if (actor.role !== 'creator' && actor.role !== 'admin') throw forbidden('webhooks are for creators and admins');
  }

  async function owned(actor: Principal, webhookId: string): Promise<Selectable<WebhooksTable>> {
    requireWebhookUser(actor);
    const row = await db.selectFrom('webhooks').selectAll().where('id', '=', parse(id, webhookId)).executeTakeFirst();
    if (!row) throw notFound('webhook');
    if (row.owner_id !== actor.id && actor.role !== 'admin') throw forbidden('not your webhook');
    return row;
  }

  async function deliveryRow(actor: Principal, webhookId: string, deliveryId: string) {
    const hook = await owned(actor, webhookId);
    const row = await db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', parse(id, deliveryId))
      .where('webhook_id', '=', hook.id)
      .executeTakeFirst();
    if (!row) throw notFound('delivery');
    return row;
  }

  return {
    async register(actor, input) {
      requireWebhookUser(actor);
      const r = parse(registerSchema, input);
      if (r.scope === 'platform' && actor.role !== 'admin')
        throw forbidden('only admins can register platform webhooks');
      const url = await checkWebhookUrl(r.url, deps.allowPrivateUrls);
      const { n } = await db
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('owner_id', '=', actor.id)
        .executeTakeFirstOrThrow();
      if (n >= MAX_WEBHOOKS_PER_OWNER) throw conflict(`at most ${MAX_WEBHOOKS_PER_OWNER} webhooks per account`);
      const secret = newSecret();
      const row = await db
        .insertInto('webhooks')
        .values({ owner_id: actor.id, scope: r.scope, url, events: r.events, description: r.description, secret })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { webhook: toWebhook(row), secret };
    },

    async list(actor) {
      requireWebhookUser(actor);
      let q = db.selectFrom('webhooks').selectAll().orderBy('created_at', 'desc').orderBy('id');
      if (actor.role !== 'admin') q = q.where('owner_id', '=', actor.id);
      return (await q.limit(1000).execute()).map(toWebhook);
    },

    async get(actor, webhookId) {
      return toWebhook(await owned(actor, webhookId));
    },

    async remove(actor, webhookId) {
      const hook = await owned(actor, webhookId);
      await db.deleteFrom('webhooks').where('id', '=', hook.id).execute();
    },

    async deliveries(actor, webhookId, query) {
      const hook = await owned(actor, webhookId);
      const q = parse(deliveriesQuery, query);
      let select = db
        .selectFrom('webhook_deliveries')
        .select([
          'id',
          'webhook_id',
          'event_id',
          'event_type',
          'status',
          'attempts',
          'next_attempt_at',
          'last_attempt_at',
          'last_status_code',
          'last_error',
          'delivered_at',
          'created_at',
        ])
        .where('webhook_id', '=', hook.id);
      if (q.status) select = select.where('status', '=', q.status);
      const rows = await select.orderBy('created_at', 'desc').orderBy('id').limit(q.limit).offset(q.offset).execute();
      return rows.map(toDelivery);
    },

    async delivery(actor, webhookId, deliveryId) {
      const row = await deliveryRow(actor, webhookId, deliveryId);
      return { ...toDelivery(row), payload: JSON.parse(row.body) as WebhookPayload };
    },

    async redeliver(actor, webhookId, deliveryId) {
      const row = await deliveryRow(actor, webhookId, deliveryId);
      const updated = await db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: sql<Date>`now()` })
        .where('id', '=', row.id)
        .where('status', '<>', 'pending')
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw new AppError('CONFLICT', 'the delivery is still pending: it will be attempted again');
      return toDelivery(updated);
    },
  };
}
