import type { RecordingTrack } from '../db';
import { AUDIO_RATE, even, evenDown } from './encoding';
import { fileUrl } from './runner';

/** Replays play at a constant 30 fps whatever the browser sent. */
export const REPLAY_FPS = 30;
/** What shows while nothing is on screen (an audio-only part): the studio's dark stage. */
const STAGE_COLOR = '0x15171c';

export interface Frame {
  width: number;
  height: number;
}

/** The replay's 16:9 frame at `maxHeight` lines (1280x720 for 720, 640x360 for 360). */
export const replayFrame = (maxHeight: number): Frame => {
  const height = evenDown(maxHeight);
  return { width: even((height * 16) / 9), height };
};

/**
 * The camera's corner box when a screen is shared, as the studio shows it: a quarter of the frame's
 * width (a portrait camera is limited by the box height instead) and a small margin.
 */
export function cameraBox(frame: Frame) {
  const width = even(frame.width / 4);
  return { width, height: even(frame.height * 0.4), margin: even(frame.width / 64) };
}

/** The stage: exactly `frames` frames at REPLAY_FPS (half a frame short, so rounding cannot add one). */
const stageSource = (frame: Frame, frames: number) =>
  `color=c=${STAGE_COLOR}:s=${frame.width}x${frame.height}:r=${REPLAY_FPS}:d=${((frames - 0.5) / REPLAY_FPS).toFixed(6)}`;

/**
 * ffmpeg's inputs and filter graphs turning one part's tracks into the replay's picture (`[v]`)
 * and sound (`[a]`), exactly `frames` frames and as many samples long.
 *
 * - Each track is read through an input of its own (the same file opened once per track). With a
 *   single input, ffmpeg reads packets in file order, and while one video has a gap (a paused
 *   screen share sends nothing) every decoded frame of the other would queue in memory until the
 *   gap ends: minutes of gap, gigabytes. With one demuxer per track, the waiting one just reads on.
 * - Video and audio are separate graphs: when a browser changes resolution mid-stream ffmpeg
 *   rebuilds the graph that input feeds, and the sound must not lose its state then.
 * - The stage (a `color` source as long as the part) drives the clock, one output frame per stage
 *   frame; each video is overlaid on it with `eof_action=pass`, so a track that starts late or ends
 *   early leaves the stage or the other track showing, and a gap keeps its last frame, as a live
 *   viewer saw it.
 */
export function partGraph(
  file: string,
  tracks: readonly RecordingTrack[],
  frame: Frame,
  frames: number,
): { inputArgs: string[]; video: string; audio: string } {
  const { width: W, height: H } = frame;
  const screen = tracks.find((t) => t.source === 'screen' && t.kind === 'video');
  const camera = tracks.find((t) => t.source === 'camera' && t.kind === 'video');
  const sounds = (['microphone', 'screenAudio'] as const)
    .map((source) => tracks.find((t) => t.source === source && t.kind === 'audio'))
    .filter((t): t is RecordingTrack => t !== undefined);

  const inputArgs: string[] = [];
  let inputs = 0;
  const open = (track: RecordingTrack) => {
    inputArgs.push('-protocol_whitelist', 'file', '-format_whitelist', 'matroska', '-i', fileUrl(file));
    return `${inputs++}:${track.stream}`;
  };

  const chains: string[] = [];
  // Letterboxed: the whole picture, aspect kept, centred on the stage.
  const full = screen ?? camera;
  const fullInput = full ? open(full) : null;
  const cornerInput = screen && camera ? open(camera) : null;
  const soundInputs = sounds.map(open);
  inputArgs.push('-f', 'lavfi', '-i', stageSource(frame, frames));
  let picture = `${inputs}:v`;

  if (fullInput) {
    chains.push(
      `[${fullInput}]scale=${W}:${H}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[full]`,
      `[${picture}][full]overlay=x=(W-w)/2:y=(H-h)/2:eof_action=pass[staged]`,
    );
    picture = 'staged';
  }
  if (cornerInput) {
    const box = cameraBox(frame);
    chains.push(
      `[${cornerInput}]scale=${box.width}:${box.height}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[cam]`,
      `[${picture}][cam]overlay=x=W-w-${box.margin}:y=H-h-${box.margin}:eof_action=pass[withcam]`,
    );
    picture = 'withcam';
  }
  chains.push(`[${picture}]format=yuv420p[v]`);

  // Live audio has holes (a muted microphone sends nothing): async fills them with silence from
  // the timestamps, first_pts=0 fills the start of a track that began late, so sound stays in
  // sync with the picture. Mixed without normalising: viewers heard the two tracks summed.
  const prepared = soundInputs.map(
    (input, i) =>
      `[${input}]aresample=${AUDIO_RATE}:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=${AUDIO_RATE}:channel_layouts=stereo[a${i}]`,
  );
  let sound: string;
  if (prepared.length === 0) sound = `anullsrc=r=${AUDIO_RATE}:cl=stereo`;
  else if (prepared.length === 1) sound = `${prepared[0]};[a0]anull`;
  else sound = `${prepared.join(';')};[a0][a1]amix=inputs=2:duration=longest:normalize=0`;
  // Exactly as many samples as the picture lasts, so parts join without a drift.
  const samples = frames * (AUDIO_RATE / REPLAY_FPS);
  return {
    inputArgs,
    video: chains.join(';'),
    audio: `${sound},apad=whole_len=${samples},atrim=end_sample=${samples}[a]`,
  };
}
