import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, idempotencyKeyOf, principal, requireRole, sendOutcome } from '../middleware';

export function moneyRoutes({ payments }: HttpDeps): Router {
  const router = Router();
  router.get('/wallet', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json(await payments.wallet(user.id));
  });
  router.get('/wallet/transactions', async (req, res) => {
    const user = principal(req);
    accepts(req, 'query');
    res.json({ entries: await payments.walletHistory(user.id, req.query) });
  });
  router.post('/wallet/topup', async (req, res) => {
    const user = principal(req);
    accepts(req, 'body');
    sendOutcome(res, await payments.topUp(user.id, req.body, idempotencyKeyOf(req)));
  });
  router.get('/purchases', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json({ purchases: await payments.purchases(user.id) });
  });
  router.post('/purchases', async (req, res) => {
    const user = principal(req);
    accepts(req, 'body');
    sendOutcome(res, await payments.purchase(user.id, req.body, idempotencyKeyOf(req)));
  });
  router.get('/subscriptions', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json({ subscriptions: await payments.subscriptions(user.id) });
  });
  router.post('/subscriptions', async (req, res) => {
    const user = principal(req);
    accepts(req, 'body');
    sendOutcome(res, await payments.subscribe(user.id, req.body, idempotencyKeyOf(req)));
  });
  router.post('/admin/purchases/:id/refund', async (req, res) => {
    const admin = requireRole(req, 'admin');
    accepts(req);
    sendOutcome(res, await payments.refund(admin.id, req.params.id, idempotencyKeyOf(req)));
  });
  return router;
}
