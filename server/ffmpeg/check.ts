import { isMediaToolError } from './errors';
import type { FfmpegOptions } from './options';
import { runTool } from './runner';

export interface FfmpegStatus {
  available: boolean;
  /** Why not, in words an operator can act on; null when available. */
  reason: string | null;
  /** ffmpeg's version string (e.g. `5.1.6-0+deb12u1`); null when it could not be run. */
  version: string | null;
}

/** Encoders every job needs: a build without them would fail each upload one by one. */
const REQUIRED_ENCODERS = ['libx264', 'aac', 'mjpeg'] as const;
/** A binary that hangs on `-version` is as good as missing; start-up must not wait for it. */
const CHECK_TIMEOUT_MS = 15_000;

const describe = (bin: string, err: unknown) => {
  if (isMediaToolError(err) && err.aborted) return `'${bin}' did not answer within ${CHECK_TIMEOUT_MS / 1000} s`;
  return err instanceof Error ? err.message : String(err);
};

/**
 * Can this node record rooms and package videos? Runs `ffmpeg -version`, `ffprobe -version`,
 * lists ffmpeg's encoders and asks for the SDP demuxer and the Matroska muxer. Never throws: a node without ffmpeg still streams live, it only says why it cannot
 * record (for `/healthz` and the start-up log).
 */
export async function checkFfmpeg(opts: FfmpegOptions): Promise<FfmpegStatus> {
  const run = (bin: string, args: string[]) =>
    runTool(bin, args, { captureStdout: true, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  let version: string | null = null;
  try {
    const { stdout } = await run(opts.ffmpegPath, ['-hide_banner', '-version']);
    version = /^ffmpeg version (\S+)/m.exec(stdout)?.[1] ?? null;
    if (!version) {
      return { available: false, reason: `'${opts.ffmpegPath}' does not look like ffmpeg`, version: null };
    }
  } catch (err) {
    return { available: false, reason: describe(opts.ffmpegPath, err), version: null };
  }
  try {
    const { stdout } = await run(opts.ffprobePath, ['-hide_banner', '-version']);
    if (!/^ffprobe version/m.test(stdout)) {
      return { available: false, reason: `'${opts.ffprobePath}' does not look like ffprobe`, version };
    }
  } catch (err) {
    return { available: false, reason: describe(opts.ffprobePath, err), version };
  }
  try {
    const { stdout } = await run(opts.ffmpegPath, ['-hide_banner', '-encoders']);
    const missing = REQUIRED_ENCODERS.filter((name) => !new RegExp(`^\\s*\\S+\\s+${name}\\s`, 'm').test(stdout));
    if (missing.length > 0) {
      return {
        available: false,
        reason: `ffmpeg at '${opts.ffmpegPath}' lacks the ${missing.join(', ')} encoder(s) (Debian's ffmpeg package has them)`,
        version,
      };
    }
  } catch (err) {
    return { available: false, reason: describe(opts.ffmpegPath, err), version };
  }
  // The recorder reads RTP described by an SDP and writes Matroska.
  try {
    const [sdp, mkv] = await Promise.all([
      run(opts.ffmpegPath, ['-hide_banner', '-h', 'demuxer=sdp']),
      run(opts.ffmpegPath, ['-hide_banner', '-h', 'muxer=matroska']),
    ]);
    if (!sdp.stdout.includes('Demuxer sdp')) return { available: false, reason: 'ffmpeg has no SDP demuxer', version };
    if (!mkv.stdout.includes('Muxer matroska'))
      return { available: false, reason: 'ffmpeg has no Matroska muxer', version };
  } catch (err) {
    return { available: false, reason: describe(opts.ffmpegPath, err), version };
  }
  return { available: true, reason: null, version };
}
