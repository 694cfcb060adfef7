import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { principal } from '../middleware';

/** Webhook registration and delivery status (docs/webhooks.md). */
export function webhookRoutes({ webhooks }: HttpDeps): Router {
  const router = Router();
  router.post('/webhooks', async (req, res) => {
    res.status(201).json(await webhooks.register(principal(req), req.body));
  });
  router.get('/webhooks', async (req, res) => {
    res.json({ webhooks: await webhooks.list(principal(req)) });
  });
  router.get('/webhooks/:id', async (req, res) => {
    res.json({ webhook: await webhooks.get(principal(req), req.params.id) });
  });
  router.delete('/webhooks/:id', async (req, res) => {
    await webhooks.remove(principal(req), req.params.id);
    res.status(204).end();
  });
  router.get('/webhooks/:id/deliveries', async (req, res) => {
    res.json({ deliveries: await webhooks.deliveries(principal(req), req.params.id, req.query) });
  });
  router.get('/webhooks/:id/deliveries/:deliveryId', async (req, res) => {
    res.json({ delivery: await webhooks.delivery(principal(req), req.params.id, req.params.deliveryId) });
  });
  router.post('/webhooks/:id/deliveries/:deliveryId/redeliver', async (req, res) => {
    res.json({ delivery: await webhooks.redeliver(principal(req), req.params.id, req.params.deliveryId) });
  });
  return router;
}
