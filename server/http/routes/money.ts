import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { idempotencyKeyOf, principal, requireRole, sendOutcome } from '../middleware';

export function moneyRoutes({ payments }: HttpDeps): Router {
  const router = Router();
  router.get('/wallet', async (req, res) => {
    res.json(await payments.wallet(principal(req).id));
  });
  router.get('/wallet/transactions', async (req, res) => {
    const limit = Number(req.query.limit ?? 50);
    res.json({ entries: await payments.walletHistory(principal(req).id, Number.isFinite(limit) ? limit : 50) });
  });
  router.post('/wallet/topup', async (req, res) => {
    const user = principal(req);
    sendOutcome(res, await payments.topUp(user.id, req.body, idempotencyKeyOf(req)));
  });
  router.get('/purchases', async (req, res) => {
    res.json({ purchases: await payments.purchases(principal(req).id) });
  });
  router.post('/purchases', async (req, res) => {
    const user = principal(req);
    sendOutcome(res, await payments.purchase(user.id, req.body, idempotencyKeyOf(req)));
  });
  router.get('/subscriptions', async (req, res) => {
    res.json({ subscriptions: await payments.subscriptions(principal(req).id) });
  });
  router.post('/subscriptions', async (req, res) => {
    const user = principal(req);
    sendOutcome(res, await payments.subscribe(user.id, req.body, idempotencyKeyOf(req)));
  });
  router.post('/admin/purchases/:id/refund', async (req, res) => {
    const admin = requireRole(req, 'admin');
    sendOutcome(res, await payments.refund(admin.id, req.params.id, idempotencyKeyOf(req)));
  });
  return router;
}
