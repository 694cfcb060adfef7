/**
 * The ffmpeg toolkit: probing uploads, packaging them as HLS, composing a live room's recorded
 * parts into a replay, re-encoding cover images. Every run is a child process with an argument
 * array (no shell), its demuxers limited to the formats expected, killed on abort.
 */
export { checkFfmpeg, type FfmpegStatus } from './check';
export { type ComposedRecording, composeRecording } from './compose-recording';
export { isMediaToolError, MediaToolError, type MediaToolErrorCode } from './errors';
export { fitWithin, reencodeImage } from './image';
export { replayFrame } from './layout';
export type { FfmpegOptions } from './options';
export { type PackagedUpload, type PackageOptions, packageUpload, planUpload, type UploadPlan } from './package-upload';
export { type HlsOutput, type HlsSegment, PLAYLIST_NAME, parsePlaylist } from './playlist';
export { type ProbedAudio, type ProbedVideo, type ProbeResult, probe } from './probe';
export type { RecordedPart } from './scan-part';
