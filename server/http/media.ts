import { pipeline } from 'node:stream/promises';
import { type Request, type Response, Router } from 'express';
import { AppError, notFound } from '../errors';
import type { Logger } from '../log';
import { type ByteRange, MediaKeys, type MediaStore, type MediaUrlSigner, type StoredObject } from '../storage';
import type { VodService } from '../vod';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const SEGMENT = /^seg_\d{5,}\.ts$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  jpg: 'image/jpeg',
};

export interface MediaRouteDeps {
  store: MediaStore;
  signer: MediaUrlSigner;
  vod: VodService;
  log: Logger;
}

/**
 * `/media/…`: what players and browsers fetch, never JSON API calls. Playlists, segments and
 * attachments need a signed URL (issued by the API to those entitled); segments are immutable and
 * cacheable by a CDN that ignores the signature in its cache key; covers under `public/` are open.
 */
export function mediaRoutes({ store, signer, vod }: MediaRouteDeps): Router {
  const router = Router();

  /** The signed part of the URL: the raw path after `/media/`, as it was signed. */
  const signedPath = (req: Request) => (req.originalUrl.split('?')[0] ?? '').replace(/^\/media\//, '');

  function verify(req: Request) {
    const check = signer.check(signedPath(req), req.query as Record<string, unknown>);
    if (check.ok) return check;
    throw new AppError(
      'FORBIDDEN',
      check.reason === 'expired' ? 'this media link has expired; ask for a new one' : 'this media link is not valid',
    );
  }

  router.get(new RegExp(`^/a/(${UUID})/index\\.m3u8$`), async (req, res) => {
    const { subject, expiresAt } = verify(req);
    const assetId = (req.params as Record<string, string>)[0];
    const playlist = await vod.playlist(assetId, subject, expiresAt);
    res.set({ 'Content-Type': TYPES.m3u8, 'Cache-Control': 'private, no-store', 'Access-Control-Allow-Origin': '*' });
    res.send(playlist);
  });

  router.get(new RegExp(`^/a/(${UUID})/([^/]+)$`), async (req, res) => {
    verify(req);
    const [assetId, file] = [(req.params as Record<string, string>)[0], (req.params as Record<string, string>)[1]];
    if (!SEGMENT.test(file)) throw notFound('media');
    await sendStored(req, res, store, MediaKeys.hlsFile(assetId, file), { type: TYPES.ts, cache: IMMUTABLE });
  });

  router.get(new RegExp(`^/f/(${UUID})/[^/]+$`), async (req, res) => {
    verify(req);
    const file = await vod.attachmentFile((req.params as Record<string, string>)[0]);
    const inline = file.mime.startsWith('image/');
    await sendStored(req, res, store, file.key, {
      type: file.mime,
      cache: 'private, max-age=300',
      disposition: `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    });
  });

  // Contents' and rooms' covers, creators' avatars (MediaKeys): open to all, immutable.
  router.get(/^\/public\/(covers|room-covers|avatars)\/[0-9a-f-]{36}\/[a-z0-9]{1,16}\.jpg$/, async (req, res) => {
    const key = signedPath(req);
    await sendStored(req, res, store, key, { type: TYPES.jpg, cache: IMMUTABLE });
  });

  router.use(() => {
    throw notFound('media');
  });
  return router;
}

/** Parses a single-range `Range: bytes=…` header; null for none, 'unsatisfiable' for a bad one. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: answered with the whole object, as RFC 9110 allows.
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return 'unsatisfiable';
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

const etagOf = (o: StoredObject) => `"${o.size.toString(36)}-${o.modifiedAt.getTime().toString(36)}"`;

/** Sends a stored object with Range, ETag and conditional-request support. */
async function sendStored(
  req: Request,
  res: Response,
  store: MediaStore,
  key: string,
  o: { type: string; cache: string; disposition?: string },
): Promise<void> {
  const object = await store.stat(key);
  if (!object) throw notFound('media');
  const etag = etagOf(object);
  res.set({
    'Content-Type': o.type,
    'Cache-Control': o.cache,
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': object.modifiedAt.toUTCString(),
    'X-Content-Type-Options': 'nosniff',
    'Access-Control-Allow-Origin': '*',
    ...(o.disposition ? { 'Content-Disposition': o.disposition } : {}),
  });
  if (req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  const range = parseRange(req.headers.range, object.size);
  if (range === 'unsatisfiable') {
    res.status(416).set({ 'Content-Range': `bytes */${object.size}`, 'Cache-Control': 'no-store' });
    res.json({ error: { code: 'INVALID_ARGUMENT', message: 'the requested range is outside the file' } });
    return;
  }
  const length = range ? range.end - range.start + 1 : object.size;
  res.status(range ? 206 : 200).set('Content-Length', String(length));
  if (range) res.set('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = await store.read(key, range ?? undefined);
  await pipeline(body, res).catch(() => {
    // The viewer went away mid-transfer (seeking, closing the tab): nothing to report.
  });
}
