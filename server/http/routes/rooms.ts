import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, principal } from '../middleware';

export function roomRoutes({ rooms, viewerCounts, liveForYou }: HttpDeps): Router {
  const router = Router();
  router.get('/rooms', async (req, res) => {
    accepts(req, 'query');
    const list = await rooms.list(req.query);
    // Live rooms carry how many are watching: the gateway's presence counts, across nodes.
    const live = list.filter((r) => r.status === 'live').map((r) => r.id);
    if (live.length) {
      const counts = await viewerCounts(live);
      for (const room of list) if (room.status === 'live') room.viewerCount = counts.get(room.id) ?? 0;
    }
    res.json({ rooms: list });
  });
  router.post('/rooms', async (req, res) => {
    const owner = principal(req);
    accepts(req, 'body');
    res.status(201).json({ room: await rooms.create(owner, req.body) });
  });
  // "Live now for you": before `/rooms/:id`, which would take `for-you` for an id.
  router.get('/rooms/for-you', async (req, res) => {
    accepts(req, 'query');
    const answer = await liveForYou.forViewer(req.principal?.id ?? null, req.query);
    // Ranked for this viewer, with live counts: nobody else's, and stale in seconds.
    res.set('Cache-Control', 'private, no-store');
    res.json(answer);
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
  router.post('/rooms/:id/cover', async (req, res) => {
    const owner = principal(req);
    accepts(req);
    // The image is read as a stream by the service, never by the JSON body parser.
    res.status(201).json({ room: await rooms.setCover(owner, req.params.id, req) });
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
