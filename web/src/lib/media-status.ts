import type { MediaInfo } from '../../../protocol';

/** What a video's state means to a person: while it is being made, and why it failed. */

const FAILURES: Record<string, string> = {
  NOT_A_VIDEO: 'This file is not a video that can be read. Try an MP4, MOV, MKV or WebM file.',
  CORRUPT: 'The video is damaged: it could not be read to the end. Export it again and upload the new file.',
  TOO_LONG: 'The video is longer than this server accepts. Split it into shorter lessons.',
  EMPTY_RECORDING: 'Nothing usable was recorded during the stream.',
  PROCESSING_FAILED: 'The video could not be prepared, even after several tries. Upload it again.',
};

export function failureText(media: Pick<MediaInfo, 'error'>): string {
  return FAILURES[media.error?.code ?? 'PROCESSING_FAILED'] ?? FAILURES.PROCESSING_FAILED;
}

/** "Preparing the video… 40%" and the like, for a video that is not ready yet. */
export function processingText(media: Pick<MediaInfo, 'stage' | 'progress'>, what = 'video'): string {
  if (media.stage === 'recording') return 'The stream is still being recorded.';
  if (media.stage === 'queued') return `The ${what} is waiting its turn to be prepared…`;
  const percent = media.progress !== undefined ? ` ${Math.round(media.progress * 100)}%` : '';
  return `Preparing the ${what}…${percent}`;
}

/** One short line for lists: "Ready", "Preparing 40%", "Failed". */
export function statusLabel(media: Pick<MediaInfo, 'status' | 'stage' | 'progress'>): string {
  if (media.status === 'ready') return 'Ready';
  if (media.status === 'failed') return 'Failed';
  if (media.stage === 'recording') return 'Recording';
  if (media.stage === 'queued') return 'Queued';
  return media.progress !== undefined ? `Preparing ${Math.round(media.progress * 100)}%` : 'Preparing';
}
