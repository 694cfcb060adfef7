import { Router } from 'express';
import type { HttpDeps } from '../deps';
import { accepts, principal, requireRole } from '../middleware';

export function catalogRoutes({ catalog, payments, vod, follows }: HttpDeps): Router {
  const router = Router();
  router.get('/contents', async (req, res) => {
    accepts(req, 'query');
    res.json({ contents: await catalog.listContents(req.query) });
  });
  router.post('/contents', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req, 'body');
    res.status(201).json({ content: await catalog.createContent(creator, req.body) });
  });
  router.get('/contents/:id', async (req, res) => {
    accepts(req);
    const content = await catalog.getContent(req.params.id);
    const [owned, details] = await Promise.all([
      req.principal ? payments.ownsContent(req.principal.id, content.id) : content.price === 0,
      vod.contentDetails(req.principal ?? null, content.id),
    ]);
    // What a course or bundle costs this buyer when they own some of it (upgrade pricing).
    const quote =
      req.principal && !owned && content.kind !== 'lesson'
        ? await payments.quote(req.principal.id, content.id)
        : undefined;
    res.set('Cache-Control', 'private, no-store');
    res.json({
      content,
      owned,
      ...details,
      ...(quote && quote.owned > 0
        ? {
            upgrade: {
              yourPrice: Math.max(0, quote.due),
              credit: quote.credit,
              ownedItems: quote.owned,
              items: quote.items,
            },
          }
        : {}),
    });
  });
  router.patch('/contents/:id', async (req, res) => {
    const creator = principal(req);
    accepts(req, 'body');
    res.json({ content: await catalog.updateContent(creator, req.params.id, req.body) });
  });
  router.delete('/contents/:id', async (req, res) => {
    const creator = principal(req);
    accepts(req);
    await catalog.archiveContent(creator, req.params.id);
    res.status(204).end();
  });

  router.get('/creators/me/earnings', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    res.json(await payments.creatorEarnings(creator.id));
  });
  router.patch('/creators/me', async (req, res) => {
    const creator = principal(req);
    accepts(req, 'body');
    res.json({ profile: await catalog.updateProfile(creator, req.body) });
  });
  router.post('/creators/me/avatar', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    res.status(201).json({ profile: await catalog.setAvatar(creator, req) });
  });
  router.get('/creators/:id', async (req, res) => {
    accepts(req);
    const profile = await catalog.getProfile(req.params.id);
    // `following`: whether the caller follows them (always false for a guest).
    const following = req.principal ? await follows.isFollowing(req.principal.id, profile.userId) : false;
    if (req.principal) res.set('Cache-Control', 'private, no-store');
    res.json({ profile, following });
  });
  return router;
}
