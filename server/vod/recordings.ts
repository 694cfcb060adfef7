import { rm, stat } from 'node:fs/promises';
import { type Kysely, sql } from 'kysely';
import type { DB, RecordingTrack } from '../db';
import { isUniqueViolation } from '../db';
import { conflict } from '../errors';
import type { Logger } from '../log';
import type { RecordingSink } from '../recording/sink';
import { MediaKeys, type MediaStore } from '../storage';
import { enqueueJob } from './jobs';

/**
 * A live room's recording as the VOD service keeps it: the asset (status `recording` while the
 * room is live), its parts in the store, and the compose job queued when the room ends.
 */
export class Recordings implements RecordingSink {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly store: MediaStore,
    private readonly nodeId: string,
    private readonly log: Logger,
    /** Told when a job was queued, so this node's runner looks at once. */
    private readonly jobQueued: () => void,
  ) {}

  async openRecording(roomId: string): Promise<{ assetId: string } | null> {
    const room = await this.db
      .selectFrom('rooms')
      .select(['id', 'owner_id', 'status', 'record', 'replay_asset_id'])
      .where('id', '=', roomId)
      .executeTakeFirst();
    if (room?.status !== 'live' || !room.record) return null;
    const existing = await this.db
      .selectFrom('media_assets')
      .select(['id', 'status'])
      .where('room_id', '=', roomId)
      .where('origin', '=', 'recording')
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (existing) return existing.status === 'recording' ? { assetId: existing.id } : null;
    try {
      return await this.db.transaction().execute(async (trx) => {
        const asset = await trx
          .insertInto('media_assets')
          .values({ owner_id: room.owner_id, origin: 'recording', status: 'recording', room_id: roomId })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx.updateTable('rooms').set({ replay_asset_id: asset.id }).where('id', '=', roomId).execute();
        return { assetId: asset.id };
      });
    } catch (err) {
      // Another node (or a concurrent call) created it first.
      if (isUniqueViolation(err)) return this.openRecording(roomId);
      throw err;
    }
  }

  async startPart(assetId: string, tracks: RecordingTrack[]): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        // One row from the aggregate, or none when the asset is no longer recording (HAVING).
        const { rows } = await sql<{ seq: number }>`
          INSERT INTO recording_parts (asset_id, seq, status, tracks, node_id)
          SELECT ${assetId}, coalesce(max(seq) + 1, 0), 'recording', ${JSON.stringify(tracks)}::jsonb, ${this.nodeId}
          FROM recording_parts WHERE asset_id = ${assetId}
          HAVING EXISTS (SELECT 1 FROM media_assets WHERE id = ${assetId} AND status = 'recording' AND deleted_at IS NULL)
          RETURNING seq
        `.execute(this.db);
        if (!rows[0]) throw conflict('the recording has ended');
        return rows[0].seq;
      } catch (err) {
        if (isUniqueViolation(err) && attempt < 3) continue;
        throw err;
      }
    }
  }

  async touchPart(assetId: string, seq: number): Promise<void> {
    await this.db
      .updateTable('recording_parts')
      .set({ updated_at: sql<Date>`now()` as never })
      .where('asset_id', '=', assetId)
      .where('seq', '=', seq)
      .where('status', '=', 'recording')
      .execute();
  }

  async finishPart(assetId: string, seq: number, result: { localPath: string } | { error: string }): Promise<void> {
    let bytes: number | null = null;
    let error = 'error' in result ? result.error : null;
    if ('localPath' in result) {
      try {
        bytes = (await stat(result.localPath)).size;
        if (bytes === 0) error = 'the recorder wrote nothing';
        else await this.store.putFile(MediaKeys.part(assetId, seq), result.localPath, { move: true });
      } catch (err) {
        error = `the part could not be stored: ${(err as Error).message}`;
        this.log.error({ err, assetId, seq }, 'recording part lost');
      } finally {
        await rm(result.localPath, { force: true });
      }
    }
    await this.db
      .updateTable('recording_parts')
      .set({
        status: error ? 'failed' : 'done',
        bytes,
        error,
        ended_at: sql<Date>`now()` as never,
        updated_at: sql<Date>`now()` as never,
      })
      .where('asset_id', '=', assetId)
      .where('seq', '=', seq)
      .execute();
  }

  /**
   * The room ended: its recording starts processing and the compose job is queued (it waits for
   * parts still being finished, on whichever node recorded them).
   */
  async roomEnded(roomId: string): Promise<void> {
    const queued = await this.db.transaction().execute(async (trx) => {
      const asset = await trx
        .updateTable('media_assets')
        .set({ status: 'processing', progress: 0, updated_at: sql<Date>`now()` as never })
        .where('room_id', '=', roomId)
        .where('origin', '=', 'recording')
        .where('status', '=', 'recording')
        .where('deleted_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (asset) await enqueueJob(trx, asset.id, 'compose-recording');
      return asset;
    });
    if (queued) {
      this.log.info({ roomId, assetId: queued.id }, 'room ended: its replay is being made');
      this.jobQueued();
    }
  }
}
