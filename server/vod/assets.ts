import { type Kysely, sql } from 'kysely';
import type { MediaErrorCode, MediaInfo } from '../../protocol';
import type { DB, HlsSegment, MediaAssetRow } from '../db';

/**
 * A video asset's row and what its states mean to a viewer. Status moves
 * recording → processing → ready | failed (uploads start at processing); a failed or replaced
 * asset is soft-deleted and its files removed.
 */

export type AssetRow = MediaAssetRow;

/** The part of the packaged video inside the trim: whole segments overlapping [start, end). */
export function trimmedSegments(asset: Pick<AssetRow, 'segments' | 'trim_start_seconds' | 'trim_end_seconds'>): {
  segments: HlsSegment[];
  durationSeconds: number;
} {
  const all = asset.segments ?? [];
  const start = asset.trim_start_seconds;
  const end = asset.trim_end_seconds ?? Number.POSITIVE_INFINITY;
  const segments: HlsSegment[] = [];
  let t = 0;
  for (const segment of all) {
    const segEnd = t + segment.duration;
    if (segEnd > start && t < end) segments.push(segment);
    t = segEnd;
  }
  return { segments, durationSeconds: round(segments.reduce((sum, s) => sum + s.duration, 0)) };
}

/** The playable length shown in lists (kept in the row, so lists need not read the segments). */
export function playableSeconds(asset: Pick<AssetRow, 'status' | 'playable_seconds'> | undefined): number | null {
  return asset?.status === 'ready' ? asset.playable_seconds : null;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** What anyone allowed to see the asset learns of it; the caller adds the signed URL. */
export function mediaInfo(asset: AssetRow, options: { forOwner: boolean; queued?: boolean }): MediaInfo {
  const status = asset.status === 'recording' ? 'processing' : asset.status;
  const info: MediaInfo = { id: asset.id, status };
  if (asset.status === 'recording') info.stage = 'recording';
  else if (asset.status === 'processing') info.stage = options.queued ? 'queued' : 'packaging';
  if (status === 'processing') info.progress = asset.progress;
  if (asset.status === 'ready') {
    info.durationSeconds = asset.playable_seconds ?? trimmedSegments(asset).durationSeconds;
    if (asset.width) info.width = asset.width;
    if (asset.height) info.height = asset.height;
  }
  if (asset.status === 'failed') {
    info.error = {
      code: (asset.error_code ?? 'PROCESSING_FAILED') as MediaErrorCode,
      message: asset.error_message ?? 'the video could not be processed',
    };
  }
  if (options.forOwner && asset.origin === 'recording') {
    info.trim = {
      startSeconds: asset.trim_start_seconds,
      endSeconds: asset.trim_end_seconds,
      sourceDurationSeconds: asset.duration_seconds,
    };
  }
  return info;
}

export async function loadAsset(db: Kysely<DB>, assetId: string): Promise<AssetRow | undefined> {
  return db
    .selectFrom('media_assets')
    .selectAll()
    .where('id', '=', assetId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** Whether a job for the asset is waiting (not yet picked up): "queued" rather than "packaging". */
export async function isQueued(db: Kysely<DB>, assetId: string): Promise<boolean> {
  const job = await db
    .selectFrom('media_jobs')
    .select('status')
    .where('asset_id', '=', assetId)
    .where('status', 'in', ['queued', 'running'])
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return job?.status === 'queued';
}

/** True while some content or room still points at the asset (its files must stay). */
export async function assetInUse(db: Kysely<DB>, assetId: string): Promise<boolean> {
  const { rows } = await sql<{ used: boolean }>`
    SELECT EXISTS (SELECT 1 FROM contents WHERE media_asset_id = ${assetId})
        OR EXISTS (SELECT 1 FROM rooms WHERE replay_asset_id = ${assetId}) AS used
  `.execute(db);
  return rows[0]?.used ?? false;
}
