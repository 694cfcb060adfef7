import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { MediaToolError } from './errors';
import type { FfmpegOptions } from './options';
import { blameInput, ffprobeJson, mainVideoStream, rotationOf } from './probe';
import { fileUrl, runFfmpeg } from './runner';

/**
 * The image demuxers a cover may use; anything else (a video, a playlist) is refused. image2 is
 * what ffmpeg picks for a name ending in .jpg/.png; it reads that one file (our names hold no
 * `%d` pattern).
 */
export const IMAGE_FORMATS = ['png_pipe', 'jpeg_pipe', 'webp_pipe', 'gif', 'image2'] as const;
/** The picture codecs a cover may be in (SVG, TIFF, camera raw and friends are not covers). */
const IMAGE_CODECS: ReadonlySet<string> = new Set(['png', 'mjpeg', 'webp', 'gif']);
/** Beyond this a decoded picture is a memory bomb, not a cover (a 5 MB PNG can claim 30000x30000). */
const MAX_PIXELS = 100_000_000;

/** The size that fits `box` keeping the aspect ratio, never larger than the source. */
export function fitWithin(source: { width: number; height: number }, box: { maxWidth: number; maxHeight: number }) {
  const scale = Math.min(1, box.maxWidth / source.width, box.maxHeight / source.height);
  return {
    width: Math.max(1, Math.round(source.width * scale)),
    height: Math.max(1, Math.round(source.height * scale)),
  };
}

/**
 * Decodes an image (PNG, JPEG, WebP, the first frame of a GIF) and writes it as a JPEG scaled
 * down to fit maxWidth×maxHeight (never up). Transparent areas become white, as a cover would show
 * them on a page. The JPEG appears at outFile whole or not at all. Undecodable → NOT_AN_IMAGE.
 */
export async function reencodeImage(
  opts: FfmpegOptions,
  file: string,
  outFile: string,
  box: { maxWidth: number; maxHeight: number },
): Promise<{ width: number; height: number }> {
  if (!(box.maxWidth >= 1 && box.maxHeight >= 1)) throw new RangeError('maxWidth and maxHeight must be at least 1');
  const raw = await ffprobeJson(opts, file, {
    formats: IMAGE_FORMATS,
    unreadable: 'NOT_AN_IMAGE',
    // The first frame's side data: a phone photo's EXIF orientation shows up there.
    extraArgs: ['-show_frames', '-read_intervals', '%+#1'],
  });
  const stream = mainVideoStream(raw);
  if (!stream || !IMAGE_CODECS.has(stream.codec_name ?? '')) {
    throw new MediaToolError('NOT_AN_IMAGE', 'the file holds no PNG, JPEG, WebP or GIF picture', { permanent: true });
  }
  // A phone photo is stored sideways with an EXIF orientation saying how to show it. ffmpeg turns
  // it upright itself (autorotate reads the first frame's display matrix); the size to fit is the
  // upright one.
  const rotation = rotationOf(raw.frames?.[0] ?? {});
  const turned = rotation === 90 || rotation === 270;
  const source = turned
    ? { width: stream.height!, height: stream.width! }
    : { width: stream.width!, height: stream.height! };
  if (source.width * source.height > MAX_PIXELS) {
    throw new MediaToolError('NOT_AN_IMAGE', `the picture is too large (${source.width}x${source.height})`, {
      permanent: true,
    });
  }
  const { width, height } = fitWithin(source, box);
  const tmp = `${outFile}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await runFfmpeg(opts, [
      '-protocol_whitelist',
      'file',
      '-format_whitelist',
      IMAGE_FORMATS.join(','),
      '-i',
      fileUrl(file),
      '-filter_complex',
      `color=c=white:s=${width}x${height}:d=1[bg];[0:v]scale=${width}:${height}:flags=lanczos,format=rgba[fg];[bg][fg]overlay=format=auto,format=yuvj420p[out]`,
      '-map',
      '[out]',
      '-frames:v',
      '1',
      '-c:v',
      'mjpeg',
      '-q:v',
      '3',
      '-f',
      'mjpeg',
      tmp,
    ]);
    await rename(tmp, outFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw blameInput(err, 'NOT_AN_IMAGE', 'the picture cannot be decoded');
  }
  return { width, height };
}
