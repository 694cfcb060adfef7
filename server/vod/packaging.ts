import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import type { Config } from '../config';
import type { DB, MediaJobRow, RecordingTrack } from '../db';
import { composeRecording, type FfmpegOptions, type HlsOutput, MediaToolError, packageUpload, probe } from '../ffmpeg';
import type { Logger } from '../log';
import { type LocalCopy, MediaKeys, type MediaStore } from '../storage';
import { loadAsset, trimmedSegments } from './assets';
import { type JobContext, type JobHandler, type JobResult, PermanentJobError } from './jobs';

export interface PackagingDeps {
  db: Kysely<DB>;
  store: MediaStore;
  ffmpeg: FfmpegOptions;
  config: Pick<Config, 'hlsSegmentSeconds' | 'mediaMaxHeight' | 'mediaUploadMaxSeconds'>;
  log: Logger;
  /** Local scratch space for ffmpeg's output before it goes into the store. */
  workDir: string;
  /** A part still `recording` that was not touched for this long belongs to a recorder that died. */
  stalePartMs?: number;
}

/**
 * The two kinds of media job: an upload packaged into HLS, and a recording's parts composed into
 * the room's replay. Both write ffmpeg's output to a scratch directory, move it into the store,
 * then mark the asset ready in one statement; a failure leaves no HLS behind.
 */
export function packagingHandlers(deps: PackagingDeps): Record<MediaJobRow['kind'], JobHandler> {
  const { db, store } = deps;
  const stalePartMs = deps.stalePartMs ?? 90_000;

  async function scratch<T>(job: MediaJobRow, work: (dir: string) => Promise<T>): Promise<T> {
    await mkdir(deps.workDir, { recursive: true });
    const dir = await mkdtemp(path.join(deps.workDir, `${job.asset_id}-`));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** At most one progress write per second, only while the asset is still processing. */
  function progressWriter(assetId: string) {
    let last = 0;
    let writing = false;
    return (fraction: number) => {
      const now = Date.now();
      if (writing || now - last < 1000) return;
      last = now;
      writing = true;
      db.updateTable('media_assets')
        .set({ progress: Math.min(0.99, Math.max(0, fraction)), updated_at: sql<Date>`now()` as never })
        .where('id', '=', assetId)
        .where('status', '=', 'processing')
        .execute()
        .catch((err) => deps.log.debug({ err, assetId }, 'progress not saved'))
        .finally(() => {
          writing = false;
        });
    };
  }

  /** Moves the HLS output into the store (the playlist last) and marks the asset ready. */
  async function publish(assetId: string, outDir: string, output: HlsOutput): Promise<boolean> {
    const files = (await readdir(outDir)).filter((f) => f !== output.playlist).sort();
    for (const file of [...files, output.playlist]) {
      await store.putFile(MediaKeys.hlsFile(assetId, file), path.join(outDir, file), { move: true });
    }
    const ready = await db
      .updateTable('media_assets')
      .set({
        status: 'ready',
        progress: 1,
        segments: JSON.stringify(output.segments),
        duration_seconds: output.durationSeconds,
        playable_seconds: trimmedSegments({ segments: output.segments, trim_start_seconds: 0, trim_end_seconds: null })
          .durationSeconds,
        trim_start_seconds: 0,
        trim_end_seconds: null,
        width: output.width,
        height: output.height,
        error_code: null,
        error_message: null,
        ready_at: sql<Date>`now()` as never,
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', assetId)
      .where('status', '=', 'processing')
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(ready.numUpdatedRows) === 1) return true;
    // Deleted (or replaced) while it was being made: its files go too.
    await store.deletePrefix(MediaKeys.hls(assetId));
    return false;
  }

  const ffmpegFailure = (err: unknown): never => {
    if (err instanceof MediaToolError && err.permanent) throw new PermanentJobError(err.code, err.message);
    throw err;
  };

  const common = {
    async fail(job: MediaJobRow, code: string, message: string) {
      await store.deletePrefix(MediaKeys.hls(job.asset_id));
      await db
        .updateTable('media_assets')
        .set({
          status: 'failed',
          error_code: code,
          error_message: message.slice(0, 500),
          updated_at: sql<Date>`now()` as never,
        })
        .where('id', '=', job.asset_id)
        .where('status', '=', 'processing')
        .execute();
      // An upload that cannot become a video is not kept.
      if (job.kind === 'package-upload') await store.delete(MediaKeys.source(job.asset_id));
    },
    async cleanUp(job: MediaJobRow) {
      await store.deletePrefix(MediaKeys.hls(job.asset_id));
    },
  };

  const packageUploadHandler: JobHandler = {
    ...common,
    async run({ job, signal }: JobContext): Promise<JobResult> {
      const asset = await loadAsset(db, job.asset_id);
      if (asset?.status !== 'processing') return { done: true };
      let source: LocalCopy;
      try {
        source = await store.localCopy(MediaKeys.source(asset.id));
      } catch {
        throw new PermanentJobError('PROCESSING_FAILED', 'the uploaded file is gone');
      }
      try {
        const probed = await probe(deps.ffmpeg, source.path, signal).catch(ffmpegFailure);
        if (probed.durationSeconds !== null && probed.durationSeconds > deps.config.mediaUploadMaxSeconds) {
          throw new PermanentJobError(
            'TOO_LONG',
            `the video is ${Math.round(probed.durationSeconds)} s long; the limit is ${deps.config.mediaUploadMaxSeconds} s`,
          );
        }
        await scratch(job, async (dir) => {
          const output = await packageUpload(deps.ffmpeg, { file: source.path, probe: probed }, dir, {
            segmentSeconds: deps.config.hlsSegmentSeconds,
            maxHeight: deps.config.mediaMaxHeight,
            onProgress: progressWriter(asset.id),
            signal,
          }).catch(ffmpegFailure);
          if (await publish(asset.id, dir, output)) await store.delete(MediaKeys.source(asset.id));
        });
      } finally {
        await source.release();
      }
      return { done: true };
    },
  };

  const composeRecordingHandler: JobHandler = {
    ...common,
    async run({ job, signal }: JobContext): Promise<JobResult> {
      const asset = await loadAsset(db, job.asset_id);
      if (asset?.status !== 'processing') return { done: true };
      const parts = await db
        .selectFrom('recording_parts')
        .selectAll()
        .where('asset_id', '=', asset.id)
        .orderBy('seq')
        .execute();
      const writing = parts.filter((p) => p.status === 'recording');
      if (writing.some((p) => Date.now() - p.updated_at.getTime() < stalePartMs)) {
        return { retryInMs: 2_000, why: 'waiting for the recorder to finish its last part' };
      }
      if (writing.length) {
        // Their recorder stopped reporting (its node died): what it wrote locally is lost.
        await db
          .updateTable('recording_parts')
          .set({ status: 'failed', error: 'the recorder stopped reporting', updated_at: sql<Date>`now()` as never })
          .where('asset_id', '=', asset.id)
          .where('status', '=', 'recording')
          .execute();
      }
      const done = parts.filter((p) => p.status === 'done');
      if (!done.length) throw new PermanentJobError('EMPTY_RECORDING', 'nothing was recorded');
      const copies: LocalCopy[] = [];
      try {
        for (const part of done) copies.push(await store.localCopy(MediaKeys.part(asset.id, part.seq)));
        await scratch(job, async (dir) => {
          const output = await composeRecording(
            deps.ffmpeg,
            done.map((part, i) => ({ file: copies[i].path, tracks: part.tracks as RecordingTrack[] })),
            dir,
            {
              segmentSeconds: deps.config.hlsSegmentSeconds,
              maxHeight: deps.config.mediaMaxHeight,
              onProgress: progressWriter(asset.id),
              signal,
            },
          ).catch(ffmpegFailure);
          // The parts are only raw material: the replay (trimmed by its playlist) is what stays.
          if (await publish(asset.id, dir, output)) await store.deletePrefix(MediaKeys.parts(asset.id));
        });
      } finally {
        for (const copy of copies) await copy.release();
      }
      return { done: true };
    },
  };

  return { 'package-upload': packageUploadHandler, 'compose-recording': composeRecordingHandler };
}
