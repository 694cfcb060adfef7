import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { principal } from '../middleware';

export function roomRoutes({ rooms }: HttpDeps): Router {
  const router = Router();
  router.get('/rooms', async (req, res) => {
    res.json({ rooms: await rooms.list(req.query) });
  });
  router.post('/rooms', async (req, res) => {
    res.status(201).json({ room: await rooms.create(principal(req), req.body) });
  });
  router.get('/rooms/:id', async (req, res) => {
    res.json({ room: await rooms.get(req.params.id) });
  });
  router.post('/rooms/:id/start', async (req, res) => {
    res.json({ room: await rooms.start(principal(req), req.params.id) });
  });
  router.post('/rooms/:id/end', async (req, res) => {
    res.json({ room: await rooms.end(principal(req), req.params.id) });
  });
  return router;
}
