import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

const WEB = path.resolve(__dirname, '../../web');
// Compiled output runs from dist/server/http; sources from server/http. Both find <root>/web.
const webRoot = existsSync(WEB) ? WEB : path.resolve(__dirname, '../../../web');

/**
 * The pages people use, served by the server: static HTML and CSS from web/public and the
 * bundled scripts from web/dist (`npm run build:web`).
 */
export function pageRoutes(): Router {
  const router = Router();
  const page = (file: string) => (_req: express.Request, res: express.Response) =>
    res.sendFile(path.join(webRoot, 'public', file));
  router.get('/', page('index.html'));
  router.get('/studio', page('studio.html'));
  router.get('/studio/contents', page('contents.html'));
  router.get('/watch/:roomId', page('watch.html'));
  router.get('/replay/:roomId', page('replay.html'));
  router.get('/content/:id', page('content.html'));
  router.get('/creators/:id', page('creator.html'));
  router.get('/library', page('library.html'));
  router.get('/orders', page('orders.html'));
  router.get('/dashboard', page('dashboard.html'));
  router.use('/assets', express.static(path.join(webRoot, 'dist'), { maxAge: '1h' }));
  router.use(express.static(path.join(webRoot, 'public'), { index: false }));
  return router;
}
