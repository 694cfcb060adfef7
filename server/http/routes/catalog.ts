import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { principal, requireRole } from '../middleware';

export function catalogRoutes({ catalog, payments }: HttpDeps): Router {
  const router = Router();
  router.get('/contents', async (req, res) => {
    res.json({ contents: await catalog.listContents(req.query) });
  });
  router.post('/contents', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    res.status(201).json({ content: await catalog.createContent(creator, req.body) });
  });
  router.get('/contents/:id', async (req, res) => {
    const content = await catalog.getContent(req.params.id);
    const owned = req.principal ? await payments.ownsContent(req.principal.id, content.id) : content.price === 0;
    res.json({ content, owned });
  });
  router.patch('/contents/:id', async (req, res) => {
    res.json({ content: await catalog.updateContent(principal(req), req.params.id, req.body) });
  });
  router.delete('/contents/:id', async (req, res) => {
    await catalog.archiveContent(principal(req), req.params.id);
    res.status(204).end();
  });

  router.get('/creators/me/earnings', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    res.json(await payments.creatorEarnings(creator.id));
  });
  router.patch('/creators/me', async (req, res) => {
    res.json({ profile: await catalog.updateProfile(principal(req), req.body) });
  });
  router.get('/creators/:id', async (req, res) => {
    res.json({ profile: await catalog.getProfile(req.params.id) });
  });
  return router;
}
