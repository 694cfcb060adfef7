import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { aacArgs, checkPackageOptions, h264Args, hlsArgs } from './encoding';
import { MediaToolError } from './errors';
import { type Frame, partGraph, REPLAY_FPS, replayFrame } from './layout';
import type { FfmpegOptions } from './options';
import { OutputDir } from './out-dir';
import type { PackageOptions } from './package-upload';
import { type HlsOutput, readHlsOutput } from './playlist';
import { isInputFailure } from './probe';
import { ProgressReporter } from './progress';
import { fileUrl, runFfmpeg } from './runner';
import { type RecordedPart, scanPart, type UsablePart } from './scan-part';

export interface ComposedRecording extends HlsOutput {
  /** Parts left out, and why (for the job's log). */
  skipped: { file: string; reason: string }[];
}

/** Share of the progress bar the final join takes (it copies the picture and encodes only sound). */
const JOIN_SHARE = 0.1;

/** One usable part, placed on the replay's timeline in whole frames. */
interface PlacedPart extends UsablePart {
  frames: number;
  /** Frames of the replay before this part. */
  offsetFrames: number;
}

/**
 * A live room's recording → one HLS VOD in outDir. Each usable part is normalised to an
 * intermediate with identical encoding (H.264 on the replay's frame at 30 fps, key frames on the
 * replay's segment grid; sound as FLAC so parts join sample-exact), then the intermediates are
 * joined with the concat demuxer, copying the picture and encoding the sound once to AAC.
 * Unusable parts are skipped; none usable → EMPTY_RECORDING (permanent).
 */
export async function composeRecording(
  opts: FfmpegOptions,
  parts: RecordedPart[],
  outDir: string,
  o: PackageOptions,
): Promise<ComposedRecording> {
  checkPackageOptions(o);
  const frame = replayFrame(o.maxHeight);
  const progress = new ProgressReporter(o.onProgress);
  const out = await OutputDir.open(outDir);
  const work = path.join(out.dir, `.work-${randomBytes(4).toString('hex')}`);
  return out.run(async () => {
    try {
      await mkdir(work);
      const skipped: { file: string; reason: string }[] = [];
      const usable: UsablePart[] = [];
      for (const part of parts) {
        const scan = await scanPart(opts, part, o.signal);
        if (scan.usable) usable.push(scan.part);
        else skipped.push({ file: scan.file, reason: scan.reason });
      }

      // Placed back to back in whole frames as they normalise: a part that fails is simply not
      // counted, so the key-frame grid of the parts after it stays right.
      const framesOf = (part: UsablePart) => Math.max(1, Math.round(part.durationSeconds * REPLAY_FPS));
      const totalFrames = usable.reduce((sum, part) => sum + framesOf(part), 0);
      const intermediates: { file: string; frames: number }[] = [];
      let offsetFrames = 0;
      let doneFrames = 0;
      for (const part of usable) {
        const frames = framesOf(part);
        const file = path.join(work, `part_${String(intermediates.length).padStart(4, '0')}.mkv`);
        const share = 1 - JOIN_SHARE;
        const failure = await normalisePart(opts, { ...part, frames, offsetFrames }, file, {
          last: part === usable.at(-1),
          frame,
          segmentSeconds: o.segmentSeconds,
          signal: o.signal,
          onFraction: progress.stage((share * doneFrames) / totalFrames, (share * (doneFrames + frames)) / totalFrames),
        });
        doneFrames += frames;
        if (failure) {
          skipped.push({ file: part.file, reason: failure });
          await rm(file, { force: true });
          continue;
        }
        intermediates.push({ file, frames });
        offsetFrames += frames;
      }
      if (intermediates.length === 0) {
        throw new MediaToolError('EMPTY_RECORDING', 'the recording holds nothing usable', { permanent: true });
      }

      await join(opts, intermediates, work, out.dir, {
        segmentSeconds: o.segmentSeconds,
        signal: o.signal,
        onFraction: progress.stage(1 - JOIN_SHARE, 1),
      });
      const result = await readHlsOutput(out.dir, frame);
      progress.done();
      return { ...result, skipped };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}

/**
 * One part → an intermediate on the replay's frame. Returns why the part had to be left out when
 * ffmpeg gave up on its data; throws when the tool or the machine failed (retrying may help).
 */
async function normalisePart(
  opts: FfmpegOptions,
  part: PlacedPart,
  outFile: string,
  o: { last: boolean; frame: Frame; segmentSeconds: number; signal?: AbortSignal; onFraction: (f: number) => void },
): Promise<string | null> {
  const graph = partGraph(part.file, part.tracks, o.frame, part.frames);
  // Key frames where the replay's segment boundaries fall inside this part.
  const grid = Math.max(1, Math.round(o.segmentSeconds * REPLAY_FPS));
  const phaseFrames = (grid - (part.offsetFrames % grid)) % grid;
  const seconds = part.frames / REPLAY_FPS;
  const args = [
    ...graph.inputArgs,
    '-filter_complex',
    graph.video,
    '-filter_complex',
    graph.audio,
    '-map',
    '[v]',
    '-map',
    '[a]',
    '-fps_mode',
    'cfr',
    '-r',
    String(REPLAY_FPS),
    '-frames:v',
    String(part.frames),
    ...h264Args({
      height: o.frame.height,
      segmentSeconds: o.segmentSeconds,
      phaseSeconds: phaseFrames / REPLAY_FPS,
      endSeconds: o.last ? seconds : undefined,
    }),
    '-c:a',
    'flac',
    '-f',
    'matroska',
    outFile,
  ];
  try {
    await runFfmpeg(opts, args, { signal: o.signal, onOutTime: (t) => o.onFraction(t / seconds) });
    return null;
  } catch (err) {
    // Decoding glitches never get here (ffmpeg conceals them and goes on); an exit with an error
    // of its own is data ffmpeg could not get past at all.
    if (isInputFailure(err)) return `ffmpeg failed on it (${err.message})`;
    throw err;
  }
}

/** A path in a concat list, quoted as the concat demuxer reads it. */
const concatQuote = (file: string) => `'${file.replaceAll("'", "'\\''")}'`;

/** The intermediates back to back → HLS: the picture copied, the sound encoded once. */
async function join(
  opts: FfmpegOptions,
  intermediates: { file: string; frames: number }[],
  work: string,
  outDir: string,
  o: { segmentSeconds: number; signal?: AbortSignal; onFraction: (f: number) => void },
): Promise<void> {
  const list = path.join(work, 'parts.txt');
  // Each part lasts exactly its frames: the next one starts there, whatever the container rounded.
  await writeFile(
    list,
    intermediates.map((i) => `file ${concatQuote(i.file)}\nduration ${(i.frames / REPLAY_FPS).toFixed(9)}\n`).join(''),
  );
  const seconds = intermediates.reduce((sum, i) => sum + i.frames, 0) / REPLAY_FPS;
  // Our own intermediates: any failure here is ffmpeg's or the machine's, left transient.
  await runFfmpeg(
    opts,
    [
      '-protocol_whitelist',
      'file',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      fileUrl(list),
      '-map',
      '0:v',
      '-map',
      '0:a',
      '-c:v',
      'copy',
      ...aacArgs(),
      ...hlsArgs(outDir, o.segmentSeconds),
    ],
    { signal: o.signal, onOutTime: (t) => o.onFraction(t / seconds) },
  );
}
