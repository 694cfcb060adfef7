import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Config } from '../config';
import { AppError, invalidArgument } from '../errors';
import { checkFfmpeg, type FfmpegStatus, MediaToolError, reencodeImage } from '../ffmpeg';
import type { Logger } from '../log';
import { type MediaStore, mediaUrl } from '../storage';
import { receiveFile, sniff } from './uploads';

/** The largest picture kept: the image is scaled down to fit (never up), keeping its shape. */
export interface ImageBox {
  maxWidth: number;
  maxHeight: number;
}

/** Contents' and rooms' covers (16:9 at most 1280×720) and avatars (at most 512×512). */
export const IMAGE_BOXES = {
  cover: { maxWidth: 1280, maxHeight: 720 },
  avatar: { maxWidth: 512, maxHeight: 512 },
} as const satisfies Record<string, ImageBox>;

const IMAGE_TYPES = /^image\/(png|jpeg|webp|gif)$/;

/**
 * Pictures anyone may see: covers and avatars, under `public/` in the MediaStore (served with
 * immutable cache headers, so each upload gets a key of its own).
 */
export interface PublicImages {
  /**
   * Receives an image (the raw body as image/png, jpeg, webp or gif, or the multipart field
   * `file`), checks by its first bytes that it is one whatever it claims, re-encodes it to a JPEG
   * within `box` and stores it at `key`; returns its public URL. INVALID_ARGUMENT for what is
   * not a readable image, PAYLOAD_TOO_LARGE past MEDIA_COVER_MAX_BYTES, UNAVAILABLE without
   * ffmpeg. Nothing is left behind on failure.
   */
  save(req: IncomingMessage, key: string, box: ImageBox, what: string): Promise<string>;
  url(key: string): string;
  /** Deletes a picture no longer shown (a replaced one); a failure is logged, never thrown. */
  discard(key: string | null | undefined): Promise<void>;
}

export interface PublicImagesDeps {
  store: MediaStore;
  config: Pick<Config, 'dataDir' | 'mediaCoverMaxBytes' | 'mediaPublicBaseUrl' | 'ffmpegPath' | 'ffprobePath'>;
  log: Logger;
}

export function createPublicImages({ store, config, log }: PublicImagesDeps): PublicImages {
  const ffmpegOptions = { ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath };
  const uploadsDir = path.join(config.dataDir, 'uploads');
  // Checked once, at the first upload: a node that never receives an image never runs ffmpeg.
  let status: Promise<FfmpegStatus> | undefined;

  async function requireFfmpeg() {
    status ??= checkFfmpeg(ffmpegOptions);
    const ffmpeg = await status;
    if (!ffmpeg.available) {
      throw new AppError('UNAVAILABLE', `image processing is unavailable on this server: ${ffmpeg.reason}`);
    }
  }

  return {
    async save(req, key, box, what) {
      await requireFfmpeg();
      const file = await receiveFile(req, {
        dir: uploadsDir,
        maxBytes: config.mediaCoverMaxBytes,
        rawType: (t) => IMAGE_TYPES.test(t),
        rawTypeHint: 'image/png, image/jpeg, image/webp or image/gif',
      });
      const out = `${file.path}.jpg`;
      try {
        if (!(await sniff(file.path))?.startsWith('image/')) {
          throw invalidArgument(`${what} is a PNG, JPEG, WebP or GIF image`);
        }
        try {
          await reencodeImage(ffmpegOptions, file.path, out, box);
        } catch (err) {
          if (err instanceof MediaToolError && err.permanent) throw invalidArgument('the image could not be read');
          throw err;
        }
        await store.putFile(key, out, { move: true });
        return mediaUrl(config, key);
      } finally {
        await rm(file.path, { force: true });
        await rm(out, { force: true });
      }
    },

    url: (key) => mediaUrl(config, key),

    async discard(key) {
      if (!key) return;
      try {
        await store.delete(key);
      } catch (err) {
        log.warn({ err, key }, 'a replaced image could not be deleted');
      }
    },
  };
}
