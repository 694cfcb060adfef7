import { aacArgs, checkPackageOptions, even, evenDown, h264Args, hlsArgs, maxRateKbps } from './encoding';
import { MediaToolError } from './errors';
import type { FfmpegOptions } from './options';
import { OutputDir } from './out-dir';
import { type HlsOutput, readHlsOutput } from './playlist';
import { assertReadable, blameInput, type ProbeResult, VIDEO_CONTAINERS } from './probe';
import { ProgressReporter } from './progress';
import { fileUrl, runFfmpeg } from './runner';

export interface PackageOptions {
  /** Target segment length (the config's HLS_SEGMENT_SECONDS). */
  segmentSeconds: number;
  /** Videos taller than this are scaled down (MEDIA_MAX_HEIGHT). */
  maxHeight: number;
  /** 0…1, only growing, 1 once at the end. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface PackagedUpload extends HlsOutput {
  /** Which streams were re-encoded; neither when the source was already fit for HLS. */
  transcoded: { video: boolean; audio: boolean };
}

/** How one upload becomes HLS: each stream copied when players can take it as it is, else re-encoded. */
export interface UploadPlan {
  copyVideo: boolean;
  /** null: the upload has no audio. */
  copyAudio: boolean | null;
  width: number;
  height: number;
}

/** Average bitrate (kbit/s) over the whole file, when size and duration are known. */
const averageKbps = (probed: ProbeResult) =>
  probed.sizeBytes && probed.durationSeconds ? (probed.sizeBytes * 8) / probed.durationSeconds / 1000 : null;

/**
 * Copying is only safe for what every HLS player decodes and what MPEG-TS can carry: H.264 in
 * 4:2:0 8-bit, not rotated (TS has no display matrix, the picture would play sideways), not
 * taller than allowed, and not far above the bitrate a re-encode would cap it at (a camera's
 * 20 Mbit/s original would stall most viewers); AAC in mono or stereo.
 */
export function planUpload(probed: ProbeResult, maxHeight: number): UploadPlan {
  const video = probed.video;
  if (!video) throw new MediaToolError('NOT_A_VIDEO', 'the file has no video stream', { permanent: true });
  const rotation = video.rotation ?? 0;
  const sar = video.sar ?? 1;
  const kbps = averageKbps(probed);
  const copyVideo =
    video.codec === 'h264' &&
    video.pixFmt === 'yuv420p' &&
    rotation === 0 &&
    video.height <= maxHeight &&
    (kbps === null || kbps <= 2 * maxRateKbps(video.height));
  const audio = probed.audio;
  const copyAudio = audio ? audio.codec === 'aac' && audio.channels >= 1 && audio.channels <= 2 : null;
  if (copyVideo) {
    return { copyVideo, copyAudio, width: Math.round(video.width * sar), height: video.height };
  }
  // The displayed picture: pixels stretched by the sample aspect ratio, turned by the rotation.
  const turned = rotation === 90 || rotation === 270;
  const displayWidth = (turned ? video.height : video.width * sar) || 1;
  const displayHeight = (turned ? video.width * sar : video.height) || 1;
  const height = evenDown(Math.min(displayHeight, maxHeight));
  return { copyVideo, copyAudio, width: even((height * displayWidth) / displayHeight), height };
}

/**
 * Messages ffmpeg prints (at `-v error`) when the input ends before its own index says it should:
 * a truncated upload, even when the run itself exits 0.
 */
const TRUNCATED = /partial file|File ended prematurely|moov atom not found|corrupt input packet|Truncating packet/i;

/**
 * An uploaded video → HLS VOD in outDir (MPEG-TS segments seg_00000.ts…, index.m3u8). See
 * `planUpload` for when streams are copied; otherwise H.264 (libx264 veryfast, key frames every
 * segmentSeconds) + AAC 128k 48 kHz stereo, at most maxHeight tall. A file that stops decoding
 * part way is CORRUPT (permanent). On any failure outDir is left as it was.
 */
export async function packageUpload(
  opts: FfmpegOptions,
  input: { file: string; probe: ProbeResult },
  outDir: string,
  o: PackageOptions,
): Promise<PackagedUpload> {
  checkPackageOptions(o);
  const plan = planUpload(input.probe, o.maxHeight);
  const expected = input.probe.durationSeconds;
  const progress = new ProgressReporter(o.onProgress);
  await assertReadable(input.file);
  const out = await OutputDir.open(outDir);
  return out.run(async () => {
    const args = [
      '-protocol_whitelist',
      'file',
      '-format_whitelist',
      VIDEO_CONTAINERS.join(','),
      '-i',
      fileUrl(input.file),
      // V: the video a player shows, never a cover picture.
      '-map',
      '0:V:0',
      '-map',
      '0:a:0?',
      '-map_metadata',
      '-1',
      '-map_chapters',
      '-1',
      ...(plan.copyVideo
        ? ['-c:v', 'copy']
        : [
            '-vf',
            `scale=${plan.width}:${plan.height},setsar=1`,
            // Timestamps as the source has them (no duplicated frames to fake a constant rate), at most 60 fps.
            '-fps_mode',
            'vfr',
            '-fpsmax',
            '60',
            ...h264Args({ height: plan.height, segmentSeconds: o.segmentSeconds, endSeconds: expected ?? undefined }),
          ]),
      ...(plan.copyAudio === null ? [] : plan.copyAudio ? ['-c:a', 'copy'] : aacArgs()),
      ...hlsArgs(out.dir, o.segmentSeconds),
    ];
    let outTime = 0;
    let stderr: string;
    try {
      ({ stderr } = await runFfmpeg(opts, args, {
        signal: o.signal,
        onOutTime: (seconds) => {
          outTime = Math.max(outTime, seconds);
          if (expected) progress.update(seconds / expected);
        },
      }));
    } catch (err) {
      throw blameInput(err, 'CORRUPT', 'the video cannot be decoded');
    }
    const truncated = TRUNCATED.exec(stderr);
    if (truncated) {
      throw new MediaToolError('CORRUPT', `the video ends early (${truncated[0]})`, { permanent: true, stderr });
    }
    const result = await readHlsOutput(out.dir, plan);
    const reached = Math.max(outTime, result.durationSeconds);
    if (expected && reached < expected - Math.max(0.5, expected * 0.02)) {
      throw new MediaToolError('CORRUPT', `only ${reached.toFixed(1)} s of ${expected.toFixed(1)} s could be decoded`, {
        permanent: true,
        stderr,
      });
    }
    if (result.segments.length === 0) {
      throw new MediaToolError('CORRUPT', 'no frame could be decoded', { permanent: true, stderr });
    }
    progress.done();
    return { ...result, transcoded: { video: !plan.copyVideo, audio: plan.copyAudio === false } };
  });
}
