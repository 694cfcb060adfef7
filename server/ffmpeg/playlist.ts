import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface HlsSegment {
  uri: string;
  duration: number;
}

/** What packaging leaves in its output directory. */
export interface HlsOutput {
  playlist: 'index.m3u8';
  segments: HlsSegment[];
  /** The sum of the segments' durations: what a player will show. */
  durationSeconds: number;
  width: number;
  height: number;
}

export const PLAYLIST_NAME = 'index.m3u8';
/** ffmpeg's hls muxer numbers segments from this pattern: seg_00000.ts, seg_00001.ts… */
export const SEGMENT_PATTERN = 'seg_%05d.ts';

/**
 * The segments of an HLS media playlist: each `#EXTINF:<duration>,[title]` and the URI line after
 * it (other tags in between, such as EXT-X-BYTERANGE or EXT-X-DISCONTINUITY, are skipped).
 */
export function parsePlaylist(text: string): HlsSegment[] {
  const segments: HlsSegment[] = [];
  let pending: number | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (line.startsWith('#EXTINF:')) {
        const duration = Number.parseFloat(line.slice('#EXTINF:'.length));
        pending = Number.isFinite(duration) && duration >= 0 ? duration : 0;
      }
      continue;
    }
    if (pending !== null) {
      segments.push({ uri: line, duration: pending });
      pending = null;
    }
  }
  return segments;
}

/** Reads back the playlist ffmpeg wrote in `outDir`. */
export async function readHlsOutput(outDir: string, size: { width: number; height: number }): Promise<HlsOutput> {
  const segments = parsePlaylist(await readFile(path.join(outDir, PLAYLIST_NAME), 'utf8'));
  // Rounded to the microsecond: summing printed decimals should not show 11.999999999.
  const durationSeconds = Math.round(segments.reduce((sum, s) => sum + s.duration, 0) * 1e6) / 1e6;
  return { playlist: PLAYLIST_NAME, segments, durationSeconds, width: size.width, height: size.height };
}
