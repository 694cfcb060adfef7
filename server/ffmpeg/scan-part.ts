import { stat } from 'node:fs/promises';
import type { RecordingTrack } from '../db';
import { MediaToolError } from './errors';
import type { FfmpegOptions } from './options';
import { ffprobeJson, isInputFailure, type RawProbe } from './probe';
import { fileUrl, runFfprobe } from './runner';

/** The recorder writes Matroska; nothing else is read from a recording. */
export const RECORDING_CONTAINERS = ['matroska'] as const;
/** A part shorter than this holds nothing a viewer would notice (a reconnect's stub). */
export const MIN_PART_SECONDS = 0.2;
/** How far into a part the first decodable frame must show up. */
const DECODE_CHECK_SECONDS = 10;

export interface RecordedPart {
  file: string;
  tracks: RecordingTrack[];
}

/** A part worth composing: its tracks that really hold frames, and how long it lasts. */
export interface UsablePart {
  file: string;
  tracks: RecordingTrack[];
  durationSeconds: number;
}

export type PartScan = { usable: true; part: UsablePart } | { usable: false; file: string; reason: string };

interface StreamSpan {
  packets: number;
  first: number;
  end: number;
}

/**
 * Reads every packet header of the part (demuxing only, no decoding: fast even for hours) for
 * each stream's packet count and time span. A part whose writer was killed has no duration or
 * cues and a torn last cluster; whatever was read before the tear still counts.
 */
async function scanPackets(opts: FfmpegOptions, file: string, signal?: AbortSignal): Promise<Map<number, StreamSpan>> {
  const spans = new Map<number, StreamSpan>();
  const onStdoutLine = (line: string) => {
    const fields = new Map<string, string>();
    for (const pair of line.split('|')) {
      const eq = pair.indexOf('=');
      if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const index = Number(fields.get('stream_index'));
    const pts = Number.parseFloat(fields.get('pts_time') ?? '');
    const at = Number.isFinite(pts) ? pts : Number.parseFloat(fields.get('dts_time') ?? '');
    if (!Number.isInteger(index) || !Number.isFinite(at)) return;
    const length = Number.parseFloat(fields.get('duration_time') ?? '');
    const end = at + (Number.isFinite(length) && length > 0 ? length : 0);
    const span = spans.get(index);
    if (!span) spans.set(index, { packets: 1, first: at, end });
    else {
      span.packets++;
      span.first = Math.min(span.first, at);
      span.end = Math.max(span.end, end);
    }
  };
  try {
    await runFfprobe(
      opts,
      [
        '-protocol_whitelist',
        'file',
        '-format_whitelist',
        RECORDING_CONTAINERS.join(','),
        '-show_entries',
        'packet=stream_index,pts_time,dts_time,duration_time',
        '-of',
        'compact=p=0',
        fileUrl(file),
      ],
      { signal, onStdoutLine },
    );
  } catch (err) {
    if (!isInputFailure(err) || spans.size === 0) throw err;
  }
  return spans;
}

/**
 * Decides whether a part can be used and with which tracks. Skipped (with a reason): an empty or
 * unreadable file, one whose first seconds decode to nothing, one shorter than MIN_PART_SECONDS.
 * Tracks whose stream is missing, of the wrong kind or without a single packet are dropped, so the
 * layout follows what was really captured. Throws only for failures of the tool or the machine.
 */
export async function scanPart(opts: FfmpegOptions, part: RecordedPart, signal?: AbortSignal): Promise<PartScan> {
  const skip = (reason: string): PartScan => ({ usable: false, file: part.file, reason });
  try {
    if ((await stat(part.file)).size === 0) return skip('empty file');
  } catch (err) {
    throw new MediaToolError('FFMPEG_FAILED', `a recorded part cannot be read (${(err as Error).message})`, {
      cause: err,
    });
  }

  let raw: RawProbe;
  try {
    raw = await ffprobeJson(opts, part.file, {
      formats: RECORDING_CONTAINERS,
      unreadable: 'NOT_A_VIDEO',
      // Decoding only the first seconds proves the codec data is sound without paying for all of it.
      extraArgs: ['-count_frames', '-read_intervals', `%+${DECODE_CHECK_SECONDS}`],
      signal,
    });
  } catch (err) {
    if (err instanceof MediaToolError && err.permanent) return skip(`unreadable (${err.message})`);
    throw err;
  }

  let spans: Map<number, StreamSpan>;
  try {
    spans = await scanPackets(opts, part.file, signal);
  } catch (err) {
    if (isInputFailure(err)) return skip(`unreadable (${err.message})`);
    throw err;
  }

  const streams = new Map((raw.streams ?? []).map((s) => [s.index, s]));
  const tracks = part.tracks.filter((t) => {
    const s = streams.get(t.stream);
    return s?.codec_type === t.kind && (spans.get(t.stream)?.packets ?? 0) > 0;
  });
  if (tracks.length === 0) return skip('no packets in any recorded track');
  const decoded = tracks.some((t) => Number(streams.get(t.stream)?.nb_read_frames ?? 0) > 0);
  if (!decoded) return skip('no decodable frame');

  // ffmpeg counts a file's time from its earliest packet in any stream; so does the duration here.
  const start = Math.min(...[...spans.values()].map((s) => s.first));
  const end = Math.max(...tracks.map((t) => spans.get(t.stream)!.end));
  const durationSeconds = end - start;
  if (!(durationSeconds >= MIN_PART_SECONDS)) return skip(`too short (${durationSeconds.toFixed(2)} s)`);
  return { usable: true, part: { file: part.file, tracks, durationSeconds } };
}
