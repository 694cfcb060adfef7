import type { ProducerCodecOptions, RtpCodecCapability, RtpEncodingParameters } from 'mediasoup-client/types';
import type { MediaSource } from '../../../protocol';

/**
 * Camera simulcast: three VP8 layers at 1/4, 1/2 and full resolution, so the server can give
 * every viewer the best layer their downlink carries. Chromium drops the top layers itself when
 * the capture is too small for them (e.g. two layers at 640×480).
 */
export const CAMERA_SIMULCAST: readonly RtpEncodingParameters[] = Object.freeze([
  { scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 1, maxBitrate: 1_500_000, scalabilityMode: 'L1T3' },
]);

/** A shared screen is mostly still text: one sharp layer, fewer bits than its pixel count suggests. */
export const SCREEN_ENCODING: readonly RtpEncodingParameters[] = Object.freeze([{ maxBitrate: 1_500_000 }]);

export const VIDEO_CODEC_OPTIONS: ProducerCodecOptions = Object.freeze({ videoGoogleStartBitrate: 1000 });
/** Voice: mono, forward error correction for lossy links, DTX so silence costs nothing. */
export const AUDIO_CODEC_OPTIONS: ProducerCodecOptions = Object.freeze({
  opusStereo: false,
  opusFec: true,
  opusDtx: true,
});

export function encodingsFor(source: MediaSource, simulcast: boolean): RtpEncodingParameters[] | undefined {
  if (source === 'camera') return simulcast ? CAMERA_SIMULCAST.map((e) => ({ ...e })) : [{ maxBitrate: 1_500_000 }];
  if (source === 'screen') return SCREEN_ENCODING.map((e) => ({ ...e }));
  return undefined;
}

/**
 * VP8 for video: every browser decodes it and it simulcasts everywhere (VP9 and H264 simulcast
 * are patchier). Undefined when the device has no VP8: mediasoup-client then picks the first
 * codec both sides share.
 */
export function preferredVideoCodec(codecs: readonly RtpCodecCapability[] | undefined): RtpCodecCapability | undefined {
  return codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
}
