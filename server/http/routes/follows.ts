import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, principal } from '../middleware';

/** Following creators (server/follows): signed-in callers only; guests are UNAUTHENTICATED. */
export function followRoutes({ follows }: HttpDeps): Router {
  const router = Router();
  router.put('/creators/:id/follow', async (req, res) => {
    const viewer = principal(req);
    accepts(req);
    res.json(await follows.follow(viewer, req.params.id));
  });
  router.delete('/creators/:id/follow', async (req, res) => {
    const viewer = principal(req);
    accepts(req);
    res.json(await follows.unfollow(viewer, req.params.id));
  });
  router.get('/me/follows', async (req, res) => {
    const viewer = principal(req);
    accepts(req, 'query');
    res.set('Cache-Control', 'private, no-store');
    res.json({ follows: await follows.list(viewer, req.query) });
  });
  return router;
}
