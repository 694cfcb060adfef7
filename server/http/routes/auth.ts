import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, principal, rateLimit } from '../middleware';

export function authRoutes({ auth, limiters }: HttpDeps): Router {
  const router = Router();
  const perIp = rateLimit(limiters.auth, (req) => `auth:${req.ip}`);
  router.post('/auth/register', perIp, async (req, res) => {
    accepts(req, 'body');
    res.status(201).json(await auth.register(req.body));
  });
  router.post('/auth/login', perIp, async (req, res) => {
    accepts(req, 'body');
    res.json(await auth.login(req.body));
  });
  router.get('/me', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.json({ user: await auth.getUser(user.id) });
  });
  return router;
}
