import type { MediaSource } from '../../../protocol';

export interface CaptureOptions {
  /** `true` for the default camera, or a `deviceId` from {@link listMediaDevices}. */
  camera?: boolean | string;
  /** `true` for the default microphone, or a `deviceId`. */
  microphone?: boolean | string;
  /** Ask the user for a screen, window or tab to share (with its audio when the browser offers it). */
  screen?: boolean;
}

/** Camera capture: 720p when the camera has it, less when not; 30 fps. */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = Object.freeze({
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
});

const pick = (choice: boolean | string, base: MediaTrackConstraints = {}): MediaTrackConstraints =>
  typeof choice === 'string' ? { ...base, deviceId: { exact: choice } } : { ...base };

/**
 * Captures what is asked for, as tracks keyed by source (what `publish` takes). Asks for the
 * camera and microphone in one prompt. On failure, every track already captured is stopped.
 */
export async function captureMedia(options: CaptureOptions): Promise<Partial<Record<MediaSource, MediaStreamTrack>>> {
  const tracks: Partial<Record<MediaSource, MediaStreamTrack>> = {};
  try {
    if (options.camera || options.microphone) {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: options.camera ? pick(options.camera, CAMERA_CONSTRAINTS) : false,
        audio: options.microphone
          ? pick(options.microphone, { echoCancellation: true, noiseSuppression: true })
          : false,
      });
      tracks.camera = stream.getVideoTracks()[0];
      tracks.microphone = stream.getAudioTracks()[0];
    }
    if (options.screen) {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: true });
      tracks.screen = stream.getVideoTracks()[0];
      tracks.screenAudio = stream.getAudioTracks()[0];
    }
  } catch (err) {
    for (const track of Object.values(tracks)) track?.stop();
    throw err;
  }
  for (const key of Object.keys(tracks) as MediaSource[]) if (!tracks[key]) delete tracks[key];
  return tracks;
}

/** Cameras and microphones (labels appear once the user has granted access once). */
export async function listMediaDevices(): Promise<{ cameras: MediaDeviceInfo[]; microphones: MediaDeviceInfo[] }> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === 'videoinput'),
    microphones: devices.filter((d) => d.kind === 'audioinput'),
  };
}
