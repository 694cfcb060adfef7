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
  router.get('/me/owned', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.set('Cache-Control', 'private, no-store');
    res.json({ contentIds: [...(await payments.ownedContentIds(user.id))] });
  });
  router.get('/orders', async (req, res) => {
    const user = principal(req);
    accepts(req, 'query');
    res.json({ orders: await payments.orders(user.id, req.query) });
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
  router.get('/earnings', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    res.json(await payments.earnings(creator.id));
  });
  router.post('/payouts', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req, 'body');
    sendOutcome(res, await payments.requestPayout(creator.id, req.body, idempotencyKeyOf(req)));
  });
  router.get('/payouts', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    res.json({ payouts: await payments.payouts(creator.id) });
  });
  router.get('/admin/payouts', async (req, res) => {
    requireRole(req, 'admin');
    accepts(req, 'query');
    res.json({ payouts: await payments.allPayouts(req.query) });
  });
  router.post('/admin/payouts/:id/retry', async (req, res) => {
    const admin = requireRole(req, 'admin');
    accepts(req, 'body');
    sendOutcome(res, await payments.retryPayout(admin.id, req.params.id, req.body, idempotencyKeyOf(req)));
  });
  router.post('/admin/purchases/:id/refund', async (req, res) => {
    const admin = requireRole(req, 'admin');
    accepts(req);
    sendOutcome(res, await payments.refund(admin.id, req.params.id, idempotencyKeyOf(req)));
  });
  return router;
}
