import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A temporary folder for generated media, removed by `cleanup()`. */
export function mediaDir(): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lectern-media-'));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A short test-pattern video with a tone, made by ffmpeg's lavfi sources. */
export async function makeVideo(
  file: string,
  o: { seconds?: number; size?: string; codec?: 'h264' | 'vp8'; audio?: boolean } = {},
): Promise<string> {
  const seconds = String(o.seconds ?? 3);
  const size = o.size ?? '320x240';
  const codec =
    o.codec === 'vp8'
      ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k', '-c:a', 'libopus']
      : ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '30', '-c:a', 'aac'];
  await run('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=30`,
    ...(o.audio === false ? [] : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000']),
    '-t',
    seconds,
    ...codec,
    ...(o.codec === 'vp8' ? [] : ['-movflags', '+faststart']),
    file,
  ]);
  return file;
}

/**
 * A recording part as the recorder writes it live: Matroska with VP8 camera (stream 0) and opus
 * microphone (stream 1), codecs as they came over RTP.
 */
export async function makeRecordingPart(file: string, seconds = 3): Promise<string> {
  await run('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=330:sample_rate=48000',
    '-t',
    String(seconds),
    '-map',
    '0',
    '-map',
    '1',
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-b:v',
    '300k',
    '-c:a',
    'libopus',
    '-f',
    'matroska',
    file,
  ]);
  return file;
}

export async function probeJson(file: string): Promise<any> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    file,
  ]);
  return JSON.parse(stdout);
}
