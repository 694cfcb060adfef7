import { Router } from 'express';
import { z } from 'zod';
import type { ServerLimits } from '../../../protocol';
import { parse } from '../../validation';
import type { HttpDeps } from '../deps';
import { accepts, principal, requireRole } from '../middleware';

export const filenameQuery = z.strictObject({ filename: z.string().min(1).max(200).optional() });

/**
 * Videos after the fact: a lesson's video and attachments, a content's cover, a room's replay,
 * watch progress and the viewer's library (docs/vod.md). Uploads are read by the service as
 * streams, never by the JSON body parser.
 */
export function vodRoutes({ vod, config }: HttpDeps): Router {
  const router = Router();
  const limits: ServerLimits = {
    currency: config.currency,
    tipPinThreshold: config.tipPinThreshold,
    tipPinBaseSeconds: config.tipPinBaseSeconds,
    tipPinMaxSeconds: config.tipPinMaxSeconds,
    maxPrice: config.maxPrice,
    uploadMaxBytes: config.mediaUploadMaxBytes,
    uploadMaxSeconds: config.mediaUploadMaxSeconds,
    attachmentMaxBytes: config.mediaAttachmentMaxBytes,
    attachmentsPerContent: config.mediaAttachmentsPerContent,
    coverMaxBytes: config.mediaCoverMaxBytes,
  };
  router.get('/limits', (req, res) => {
    accepts(req);
    res.set('Cache-Control', 'public, max-age=300');
    res.json(limits);
  });

  router.post('/contents/:id/media', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    res.status(202).json({ media: await vod.uploadContentVideo(creator, req.params.id, req) });
  });
  router.get('/contents/:id/media', async (req, res) => {
    accepts(req);
    res.set('Cache-Control', 'private, no-store');
    res.json({ media: await vod.contentVideo(req.principal ?? null, req.params.id) });
  });
  router.delete('/contents/:id/media', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    await vod.removeContentVideo(creator, req.params.id);
    res.status(204).end();
  });

  router.post('/contents/:id/attachments', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req, 'query');
    const { filename } = parse(filenameQuery, { ...req.query });
    res.status(201).json({ attachment: await vod.addAttachment(creator, req.params.id, req, filename) });
  });
  router.delete('/contents/:id/attachments/:attachmentId', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    await vod.removeAttachment(creator, req.params.id, req.params.attachmentId);
    res.status(204).end();
  });
  router.post('/contents/:id/cover', async (req, res) => {
    const creator = requireRole(req, 'creator', 'admin');
    accepts(req);
    res.status(201).json(await vod.setCover(creator, req.params.id, req));
  });

  router.get('/rooms/:id/replay', async (req, res) => {
    accepts(req);
    res.set('Cache-Control', 'private, no-store');
    res.json(await vod.replay(req.principal ?? null, req.params.id));
  });
  router.patch('/rooms/:id/replay', async (req, res) => {
    const owner = principal(req);
    accepts(req, 'body');
    res.json({ media: await vod.trimReplay(owner, req.params.id, req.body) });
  });
  router.delete('/rooms/:id/replay', async (req, res) => {
    const owner = principal(req);
    accepts(req);
    await vod.deleteReplay(owner, req.params.id);
    res.status(204).end();
  });
  router.post('/rooms/:id/replay/lesson', async (req, res) => {
    const owner = requireRole(req, 'creator', 'admin');
    accepts(req, 'body');
    res.status(201).json({ content: await vod.replayToLesson(owner, req.params.id, req.body) });
  });

  router.post('/progress', async (req, res) => {
    const user = principal(req);
    accepts(req, 'body');
    res.json({ progress: await vod.saveProgress(user, req.body) });
  });
  router.get('/library', async (req, res) => {
    const user = principal(req);
    accepts(req);
    res.set('Cache-Control', 'private, no-store');
    res.json({ items: await vod.library(user) });
  });
  return router;
}
