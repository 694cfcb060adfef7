/**
 * Watching after the fact: lesson videos, room replays, attachments, the library and watch
 * progress (HTTP JSON; docs/vod.md). Times are ISO-8601 strings, durations seconds.
 */

/** Where a video is on its way to being playable. */
export type MediaStatus = 'processing' | 'ready' | 'failed';
/** Finer than `status` while processing: recording (the room is live), queued, packaging. */
export type MediaStage = 'recording' | 'queued' | 'packaging';

/** Why a video could not be made playable (`MediaInfo.error.code`). */
export const MediaErrorCode = {
  /** The upload is not a video ffprobe can read (or has no video stream). */
  NOT_A_VIDEO: 'NOT_A_VIDEO',
  /** ffmpeg could not decode it all the way through. */
  CORRUPT: 'CORRUPT',
  /** Longer than MEDIA_UPLOAD_MAX_SECONDS. */
  TOO_LONG: 'TOO_LONG',
  /** The room's recorder captured nothing usable. */
  EMPTY_RECORDING: 'EMPTY_RECORDING',
  /** Packaging kept failing for a passing reason (attempts exhausted). */
  PROCESSING_FAILED: 'PROCESSING_FAILED',
} as const;
export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

export interface MediaInfo {
  /** The asset's id (stable while the video is not replaced). */
  id: string;
  status: MediaStatus;
  stage?: MediaStage;
  /** 0…1 while processing. */
  progress?: number;
  /** Playable length (after trimming), once known. */
  durationSeconds?: number;
  width?: number;
  height?: number;
  error?: { code: MediaErrorCode; message: string };
  /** Signed, short-lived, an absolute path (`/media/…`); only for those entitled to watch, once ready. */
  playlistUrl?: string;
  /** When `playlistUrl` stops working; ask again for a fresh one. */
  expiresAt?: string;
  /** Trim applied to the recording (seconds from its start); only shown to its creator. */
  trim?: { startSeconds: number; endSeconds: number | null; sourceDurationSeconds: number | null };
}

export interface Attachment {
  id: string;
  filename: string;
  mime: string;
  bytes: number;
  /** Signed and short-lived; only for those entitled to the content. */
  url?: string;
  /** When `url` stops working. */
  expiresAt?: string;
}

/** A course's or bundle's item as its syllabus shows it, to buyers and non-buyers alike. */
export interface SyllabusItem {
  id: string;
  title: string;
  kind: 'lesson' | 'course' | 'bundle';
  price: number;
  freeTrial: boolean;
  /** The lesson's video length once it is ready. */
  durationSeconds: number | null;
  hasVideo: boolean;
  coverUrl: string | null;
  /** Where the signed-in viewer stopped (for those who may watch the course); null if never started. */
  progress?: WatchProgress | null;
}

export interface WatchProgress {
  positionSeconds: number;
  durationSeconds: number;
  completed: boolean;
  updatedAt: string;
}

/** One thing in a viewer's library. */
export type LibraryItem =
  | {
      kind: 'content';
      contentId: string;
      title: string;
      contentKind: 'lesson' | 'course' | 'bundle';
      creatorId: string;
      creatorName: string;
      coverUrl: string | null;
      durationSeconds: number | null;
      progress: WatchProgress | null;
      acquiredAt: string;
    }
  | {
      kind: 'replay';
      roomId: string;
      title: string;
      creatorId: string;
      creatorName: string;
      /** How the viewer has it: a ticket, a subscription, or a free room they were in. */
      via: 'ticket' | 'subscription' | 'free';
      status: MediaStatus;
      durationSeconds: number | null;
      progress: WatchProgress | null;
      endedAt: string | null;
    };

/** Public limits and settings the pages need before they send anything (`GET /api/limits`). */
export interface ServerLimits {
  currency: string;
  /** A tip of at least this pins its message (Super Chat) … */
  tipPinThreshold: number;
  /** … for this long at the threshold, longer in proportion to the amount, at most `tipPinMaxSeconds`. */
  tipPinBaseSeconds: number;
  tipPinMaxSeconds: number;
  /** Largest price of a content, ticket or tip, in minor units. */
  maxPrice: number;
  uploadMaxBytes: number;
  uploadMaxSeconds: number;
  attachmentMaxBytes: number;
  attachmentsPerContent: number;
  coverMaxBytes: number;
}

export interface ProgressInput {
  /** Exactly one of the two. */
  contentId?: string;
  roomId?: string;
  positionSeconds: number;
  durationSeconds: number;
}
