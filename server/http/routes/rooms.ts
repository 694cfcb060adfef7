import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, principal } from '../middleware';

export function roomRoutes({ rooms }: HttpDeps): Router {
  const router = Router();
  router.get('/rooms', async (req, res) => {
    accepts(req, 'query');
    res.json({ rooms: await rooms.list(req.query) });
  });
  router.post('/rooms', async (req, res) => {
    const owner = principal(req);
    accepts(req, 'body');
    res.status(201).json({ room: await rooms.create(owner, req.body) });
  });
  router.get('/rooms/:id', async (req, res) => {
    accepts(req);
    res.json({ room: await rooms.get(req.params.id) });
  });
  router.patch('/rooms/:id', async (req, res) => {
    const owner = principal(req);
    accepts(req, 'body');
    res.json({ room: await rooms.update(owner, req.params.id, req.body) });
  });
  router.post('/rooms/:id/start', async (req, res) => {
    const actor = principal(req);
    accepts(req);
    res.json({ room: await rooms.start(actor, req.params.id) });
  });
  router.post('/rooms/:id/end', async (req, res) => {
    const actor = principal(req);
    accepts(req);
    res.json({ room: await rooms.end(actor, req.params.id) });
  });
  return router;
}
