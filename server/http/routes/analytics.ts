import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, principal } from '../middleware';

/** Creator analytics (docs/analytics.md): a session's metrics, a creator's totals and sessions. */
export function analyticsRoutes({ analytics }: HttpDeps): Router {
  const router = Router();
  router.get('/analytics/rooms/:roomId', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json(await analytics.roomReport(user, req.params.roomId));
  });
  router.get('/analytics/creator', async (req, res) => {
    const user = principal(req);
    accepts(req, 'query');
    res.json(await analytics.creatorReport(user, req.query));
  });
  return router;
}
