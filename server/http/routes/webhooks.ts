import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, principal } from '../middleware';

/** Webhook registration and delivery status (docs/webhooks.md). */
export function webhookRoutes({ webhooks }: HttpDeps): Router {
  const router = Router();
  router.post('/webhooks', async (req, res) => {
    const user = principal(req);
    accepts(req, 'body');
    res.status(201).json(await webhooks.register(user, req.body));
  });
  router.get('/webhooks', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json({ webhooks: await webhooks.list(user) });
  });
  router.get('/webhooks/:id', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json({ webhook: await webhooks.get(user, req.params.id) });
  });
  router.delete('/webhooks/:id', async (req, res) => {
    const user = principal(req);
    accepts(req);
    await webhooks.remove(user, req.params.id);
    res.status(204).end();
  });
  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const user = principal(req);
    accepts(req, 'query');
    res.json({ deliveries: await webhooks.deliveries(user, req.params.id, req.query) });
  });
  router.get('/webhooks/:id/deliveries/:deliveryId', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json({ delivery: await webhooks.delivery(user, req.params.id, req.params.deliveryId) });
  });
  router.post('/webhooks/:id/deliveries/:deliveryId/redeliver', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json({ delivery: await webhooks.redeliver(user, req.params.id, req.params.deliveryId) });
  });
  return router;
}
