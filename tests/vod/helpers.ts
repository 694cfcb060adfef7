import type { MediaInfo } from '../../protocol';
import type { Reply, TestServer } from '../helpers/server';

/** Uploads a lesson video as a raw body, as a creator's client would. */
export async function uploadVideo(
  server: TestServer,
  token: string | undefined,
  contentId: string,
  body: Buffer,
  contentType: string,
): Promise<Reply> {
  return server.api.request('POST', `/api/contents/${contentId}/media`, {
    token,
    raw: body as unknown as string,
    headers: { 'content-type': contentType },
  });
}

/** Polls a media resource until it reaches `status` (or fails, which is reported). */
export async function waitForMedia(
  server: TestServer,
  path: string,
  token: string | undefined,
  status: MediaInfo['status'] = 'ready',
  timeoutMs = 45_000,
): Promise<MediaInfo & { playlistUrl: string }> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await server.api.get(path, token);
    last = res.body;
    if (res.status === 200 && res.body.media.status === status) return res.body.media;
    if (res.status === 200 && res.body.media.status !== 'processing' && res.body.media.status !== status) {
      throw new Error(`${path} became ${res.body.media.status}: ${JSON.stringify(res.body.media)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${path} did not become ${status}: last ${JSON.stringify(last)}`);
}

/** GET of a `/media/…` path (a player's request: no token, only the signed URL). */
export function mediaGet(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers });
}
