/**
 * Shared by the ffmpeg toolkit's tests (not shipped behaviour): real ffmpeg making small inputs
 * from its lavfi sources, and ways to look at what came out.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FfmpegOptions } from './options';

const run = promisify(execFile);

export const tools: FfmpegOptions = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', niceness: 0 };

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(prefix = 'lectern-ffmpeg-') {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return {
    dir,
    file: (name: string) => path.join(dir, name),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs ffmpeg to make a test input (quiet, overwriting). */
export async function makeMedia(args: string[]): Promise<void> {
  await run('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args], { maxBuffer: 1 << 20 });
}

export async function ffprobeStreams(file: string): Promise<{
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; pix_fmt?: string }[];
  format: { duration?: string; format_name: string };
}> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]);
  return JSON.parse(stdout);
}

/** One decoded frame at `seconds` of `file`, as packed RGB bytes. */
export async function grabFrame(file: string, seconds: number, width: number, height: number): Promise<Buffer> {
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      file,
      '-ss',
      String(seconds),
      '-frames:v',
      '1',
      '-s',
      `${width}x${height}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { encoding: 'buffer', maxBuffer: width * height * 3 + 1024 },
  );
  return stdout;
}

/** The average [r, g, b] of a rectangle of a packed RGB frame. */
export function meanColor(
  frame: Buffer,
  frameWidth: number,
  region: { x: number; y: number; width: number; height: number },
): [number, number, number] {
  const sum = [0, 0, 0];
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const at = (y * frameWidth + x) * 3;
      sum[0] += frame[at];
      sum[1] += frame[at + 1];
      sum[2] += frame[at + 2];
    }
  }
  const n = region.width * region.height;
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

/** Processes whose command line mentions `text` (an output directory): what an abort must leave none of. */
export async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}
