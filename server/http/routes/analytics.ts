import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { principal } from '../middleware';

/** Creator analytics (docs/analytics.md): a session's metrics, a creator's totals and sessions. */
export function analyticsRoutes({ analytics }: HttpDeps): Router {
  const router = Router();
  router.get('/analytics/rooms/:roomId', async (req, res) => {
    res.json(await analytics.roomReport(principal(req), req.params.roomId));
  });
  router.get('/analytics/creator', async (req, res) => {
    res.json(await analytics.creatorReport(principal(req), req.query));
  });
  return router;
}
