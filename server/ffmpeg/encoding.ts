import path from 'node:path';
import { PLAYLIST_NAME, SEGMENT_PATTERN } from './playlist';

/** Every packaged video plays on every HLS player: H.264 yuv420p, AAC-LC stereo 48 kHz. */
export const AUDIO_BITRATE = '128k';
export const AUDIO_RATE = 48_000;

/** The nearest even number, at least 2 (4:2:0 chroma needs even dimensions). */
export const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
/** The even number at or below n, at least 2: a limit never exceeded by rounding. */
export const evenDown = (n: number) => Math.max(2, 2 * Math.floor(n / 2));

/**
 * A cap on the video bitrate for a given height (about 4 kbit/s per line: 2.9 Mbit/s at 720p),
 * so a replay streams over an ordinary connection whatever the source looked like.
 */
export const maxRateKbps = (height: number) => Math.max(400, Math.round(height * 4));

/** A last segment shorter than this is not worth a segment of its own: it joins the one before. */
const MIN_LAST_SEGMENT_SECONDS = 1;

/**
 * libx264 with a key frame forced at `phase + k × segmentSeconds` output seconds (k = 0, 1, …),
 * so the hls muxer can cut every segment at exactly its target length. `phase` shifts the grid
 * when this output is one piece of a longer timeline; none is forced within the last second of
 * `endSeconds` (the whole video's end, when this piece holds it) so the video does not end with
 * a sliver of a segment. The 1 ms slack absorbs timestamp rounding.
 */
export function h264Args(o: {
  height: number;
  segmentSeconds: number;
  phaseSeconds?: number;
  endSeconds?: number;
}): string[] {
  const phase = o.phaseSeconds ?? 0;
  const grid = `gte(t,${phase.toFixed(6)}+n_forced*${o.segmentSeconds}-0.001)`;
  const keyFrames =
    o.endSeconds === undefined ? grid : `if(lt(t,${(o.endSeconds - MIN_LAST_SEGMENT_SECONDS).toFixed(6)}),${grid},0)`;
  const rate = maxRateKbps(o.height);
  return [
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-maxrate',
    `${rate}k`,
    '-bufsize',
    `${rate * 2}k`,
    '-pix_fmt',
    'yuv420p',
    '-force_key_frames',
    `expr:${keyFrames}`,
  ];
}

export const aacArgs = (): string[] => ['-c:a', 'aac', '-b:a', AUDIO_BITRATE, '-ar', String(AUDIO_RATE), '-ac', '2'];

/**
 * The hls muxer writing a VOD playlist and MPEG-TS segments into `outDir`. The muxer cuts at the
 * first key frame at or after each multiple of hls_time; asking a hair less than the segment length
 * keeps a key frame whose timestamp rounded a microsecond early from slipping to the next one.
 */
export function hlsArgs(outDir: string, segmentSeconds: number): string[] {
  return [
    '-max_muxing_queue_size',
    '4096',
    '-f',
    'hls',
    '-hls_time',
    (segmentSeconds - 0.02).toFixed(3),
    '-hls_playlist_type',
    'vod',
    '-hls_list_size',
    '0',
    '-hls_segment_type',
    'mpegts',
    '-hls_segment_filename',
    path.join(outDir, SEGMENT_PATTERN),
    path.join(outDir, PLAYLIST_NAME),
  ];
}

/** A caller's option checked once, with a message naming it. */
export function checkPackageOptions(o: { segmentSeconds: number; maxHeight: number }): void {
  if (!(Number.isFinite(o.segmentSeconds) && o.segmentSeconds >= 1 && o.segmentSeconds <= 60)) {
    throw new RangeError(`segmentSeconds must be 1…60, got ${o.segmentSeconds}`);
  }
  if (!(Number.isInteger(o.maxHeight) && o.maxHeight >= 144 && o.maxHeight <= 4320)) {
    throw new RangeError(`maxHeight must be an integer 144…4320, got ${o.maxHeight}`);
  }
}
