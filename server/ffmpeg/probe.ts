import { stat } from 'node:fs/promises';
import { MediaToolError } from './errors';
import type { FfmpegOptions } from './options';
import { fileUrl, isResourceFailure, runFfprobe } from './runner';

export interface ProbedVideo {
  codec: string;
  /** As stored (before rotation). */
  width: number;
  height: number;
  pixFmt: string | null;
  profile: string | null;
  fps: number | null;
  /** Degrees clockwise the player turns the picture (phone videos: 90 or 270); absent means 0. */
  rotation?: number;
  /** Sample (pixel) aspect ratio, width over height; absent means square pixels. */
  sar?: number;
}

export interface ProbedAudio {
  codec: string;
  channels: number;
  sampleRate: number;
}

export interface ProbeResult {
  durationSeconds: number | null;
  formatName: string;
  sizeBytes: number | null;
  video: ProbedVideo | null;
  audio: ProbedAudio | null;
}

/**
 * Containers an uploaded video may come in. Everything else is refused before any demuxer runs:
 * playlist-like formats (hls, concat, image sequences) would make ffmpeg open other files or
 * URLs the upload names, the classic way to read a server's files through a transcoder.
 */
export const VIDEO_CONTAINERS = ['mov', 'matroska', 'avi', 'flv', 'mpegts', 'mpeg', 'ogg', 'asf', 'mxf'] as const;

/** ffprobe's JSON, the parts this module reads. */
export interface RawStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  channels?: number;
  sample_rate?: string;
  nb_read_frames?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}
export interface RawProbe {
  streams?: RawStream[];
  frames?: { side_data_list?: { side_data_type?: string; rotation?: number }[] }[];
  format?: { format_name?: string; duration?: string; size?: string };
}

/**
 * ffprobe -print_format json on one file, its demuxer limited to `formats`. Rejects with
 * `unreadable` (permanent) when ffprobe cannot read the file, FFMPEG_FAILED when the tool or the
 * machine failed.
 */
export async function ffprobeJson(
  opts: FfmpegOptions,
  file: string,
  o: {
    formats: readonly string[];
    unreadable: 'NOT_A_VIDEO' | 'NOT_AN_IMAGE';
    extraArgs?: readonly string[];
    signal?: AbortSignal;
  },
): Promise<RawProbe> {
  await assertReadable(file);
  let stdout: string;
  try {
    ({ stdout } = await runFfprobe(
      opts,
      [
        '-protocol_whitelist',
        'file',
        '-format_whitelist',
        o.formats.join(','),
        ...(o.extraArgs ?? []),
        '-show_format',
        '-show_streams',
        '-print_format',
        'json',
        fileUrl(file),
      ],
      { signal: o.signal },
    ));
  } catch (err) {
    throw blameInput(err, o.unreadable, 'ffprobe cannot read it');
  }
  try {
    return JSON.parse(stdout) as RawProbe;
  } catch (err) {
    throw new MediaToolError(o.unreadable, 'ffprobe cannot read it', { cause: err, permanent: true });
  }
}

/**
 * Did the tool give up on its input? Yes when it exited with an error of its own; no when it was
 * killed (exit code null, or 255: ffmpeg's exit after SIGTERM/SIGINT), could not start, was aborted
 * or found the machine lacking (disk full, no memory).
 */
export const isInputFailure = (err: unknown): err is MediaToolError =>
  err instanceof MediaToolError &&
  !err.aborted &&
  err.exitCode !== null &&
  err.exitCode !== 255 &&
  !isResourceFailure(err.stderr);

/**
 * A failed run reclassified as the input's fault (permanent `code`) when it is; otherwise as it
 * was. The message is meant for the uploader, so it names no path; the tool's own words stay in
 * `stderr` and `cause`.
 */
export function blameInput(err: unknown, code: MediaToolError['code'], message: string): unknown {
  if (!isInputFailure(err)) return err;
  return new MediaToolError(code, message, {
    cause: err,
    permanent: true,
    stderr: err.stderr,
    exitCode: err.exitCode,
  });
}

/** A missing input is the caller's (or the storage's) failure, not a bad video: say so, transiently. */
export async function assertReadable(file: string): Promise<void> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error(`${file} is not a regular file`);
  } catch (err) {
    throw new MediaToolError('FFMPEG_FAILED', `the input file cannot be read (${(err as Error).message})`, {
      cause: err,
    });
  }
}

const positive = (n: number | undefined | null) =>
  n !== undefined && n !== null && Number.isFinite(n) && n > 0 ? n : null;

/** "30000/1001" → 29.97; "0/0" → null. */
export function parseRatio(text: string | undefined, separator = '/'): number | null {
  if (!text) return null;
  const [num, den] = text.split(separator).map(Number);
  return positive(den === undefined ? num : num / den);
}

/**
 * Degrees clockwise, 0/90/180/270, from a display matrix (a video stream's, or a JPEG frame's EXIF
 * orientation) or the old `rotate` tag.
 */
export function rotationOf(stream: Pick<RawStream, 'side_data_list' | 'tags'>): number {
  const matrix = stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  // The display matrix states the counter-clockwise angle; the tag states the clockwise one.
  const degrees = matrix !== undefined ? -matrix : Number(stream.tags?.rotate ?? 0);
  const normalised = (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
  return Number.isFinite(normalised) ? normalised : 0;
}

/** The stream a player would show: the first video that is not a cover picture. */
export const mainVideoStream = (raw: RawProbe) =>
  raw.streams?.find(
    (s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1 && positive(s.width) && positive(s.height),
  );
export const mainAudioStream = (raw: RawProbe) =>
  raw.streams?.find((s) => s.codec_type === 'audio' && positive(s.channels));

export function toProbeResult(raw: RawProbe): ProbeResult {
  const v = mainVideoStream(raw);
  const a = mainAudioStream(raw);
  return {
    durationSeconds: positive(Number(raw.format?.duration)),
    formatName: raw.format?.format_name ?? 'unknown',
    sizeBytes: positive(Number(raw.format?.size)),
    video: v
      ? {
          codec: v.codec_name ?? 'unknown',
          width: v.width!,
          height: v.height!,
          pixFmt: v.pix_fmt ?? null,
          profile: v.profile ?? null,
          fps: parseRatio(v.avg_frame_rate) ?? parseRatio(v.r_frame_rate),
          rotation: rotationOf(v),
          sar: parseRatio(v.sample_aspect_ratio, ':') ?? 1,
        }
      : null,
    audio: a
      ? { codec: a.codec_name ?? 'unknown', channels: a.channels!, sampleRate: positive(Number(a.sample_rate)) ?? 0 }
      : null,
  };
}

/**
 * What an uploaded file holds. A file ffprobe cannot read (or in a container not meant for
 * videos), or one without a video stream (audio, a still picture in an audio file), is
 * NOT_A_VIDEO, permanently.
 */
export async function probe(opts: FfmpegOptions, file: string, signal?: AbortSignal): Promise<ProbeResult> {
  const raw = await ffprobeJson(opts, file, { formats: VIDEO_CONTAINERS, unreadable: 'NOT_A_VIDEO', signal });
  const result = toProbeResult(raw);
  if (!result.video) {
    throw new MediaToolError('NOT_A_VIDEO', 'the file has no video stream', { permanent: true });
  }
  return result;
}
