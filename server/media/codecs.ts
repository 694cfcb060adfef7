import type { RouterRtpCodecCapability } from 'mediasoup/types';

/**
 * What every router offers. Browsers negotiate down to what they share with it, so the list is
 * broad: opus for audio; VP8 (every browser, simulcast), VP9 profile 0 (SVC in Chromium) and two
 * H264 profiles (Safari and hardware encoders prefer H264; 42e01f is constrained baseline, which
 * every H264 implementation decodes, 4d0032 is main profile).
 */
export const DEFAULT_MEDIA_CODECS: readonly RouterRtpCodecCapability[] = Object.freeze([
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/VP9',
    clockRate: 90000,
    parameters: { 'profile-id': 0, 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
      'level-asymmetry-allowed': 1,
      'x-google-start-bitrate': 1000,
    },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '4d0032',
      'level-asymmetry-allowed': 1,
      'x-google-start-bitrate': 1000,
    },
  },
]);
