import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Attachment, Content, LibraryItem, MediaInfo, SyllabusItem, WatchProgress } from '../../protocol';
import type { Principal } from '../auth';
import type { CatalogService } from '../catalog';
import type { Config } from '../config';
import type { DB } from '../db';
import { AppError, conflict, forbidden, invalidArgument, notFound } from '../errors';
import type { EngagementEvent } from '../events';
import { checkFfmpeg, type FfmpegOptions, type FfmpegStatus } from '../ffmpeg';
import type { Logger } from '../log';
import type { PaymentsService } from '../payments';
import type { RecordingSink } from '../recording/sink';
import { MediaKeys, type MediaStore, type MediaUrlSigner, mediaUrl } from '../storage';
import { id, parse } from '../validation';
import { assetInUse, loadAsset, playableSeconds, trimmedSegments } from './assets';
import { IMAGE_BOXES, type PublicImages } from './images';
import { enqueueJob, MediaJobs } from './jobs';
import { libraryOf } from './library';
import { packagingHandlers } from './packaging';
import { Playback, refuse, type WatchLevel } from './playback';
import { saveProgress, toWatchProgress } from './progress';
import { Recordings } from './recordings';
import { receiveFile, safeFilename, sniff } from './uploads';

export { playableSeconds } from './assets';
export { createPublicImages, IMAGE_BOXES, type ImageBox, type PublicImages } from './images';
export type { WatchLevel } from './playback';

export interface VodDeps {
  db: Kysely<DB>;
  config: Config;
  log: Logger;
  store: MediaStore;
  signer: MediaUrlSigner;
  payments: Pick<PaymentsService, 'ownsContent' | 'roomEntitlement'>;
  catalog: Pick<CatalogService, 'createContent' | 'getContent'>;
  record: (event: EngagementEvent) => void;
  nodeId: string;
  registry?: Registry;
  /** Covers (and avatars, elsewhere): received, re-encoded and stored in public. */
  images: PublicImages;
}

/** What a content page shows beside the content itself. */
export interface ContentDetails {
  /** Whether the caller may watch it (its creator, an admin, an owner, or a free trial). */
  canWatch: boolean;
  /** For a course or bundle: its items in order, for buyers and non-buyers alike. */
  syllabus?: SyllabusItem[];
  /** The lesson's Markdown notes: only for those who may watch it. */
  notes?: string;
  /** Names and sizes for everyone; signed URLs only for those who may watch. */
  attachments: Attachment[];
  /** Where the caller stopped in the lesson's video. */
  progress?: WatchProgress | null;
}

/**
 * Videos after the fact: lesson uploads and room replays, their packaging jobs, attachments and
 * covers, who may watch what (signed URLs), where viewers stopped, and their library.
 */
export interface VodService {
  /** The recorder's sink (server/recording). */
  readonly recordings: RecordingSink;
  ffmpegStatus(): FfmpegStatus;
  /** Receives a lesson's video and queues its packaging; the old video (if unused elsewhere) goes. */
  uploadContentVideo(creator: Principal, contentId: string, req: IncomingMessage): Promise<MediaInfo>;
  contentVideo(principal: Principal | null, contentId: string): Promise<MediaInfo>;
  removeContentVideo(creator: Principal, contentId: string): Promise<void>;
  contentDetails(principal: Principal | null, contentId: string): Promise<ContentDetails>;
  addAttachment(creator: Principal, contentId: string, req: IncomingMessage, filename?: string): Promise<Attachment>;
  removeAttachment(creator: Principal, contentId: string, attachmentId: string): Promise<void>;
  /** Where an attachment's bytes are, for a signed request. */
  attachmentFile(attachmentId: string): Promise<{ key: string; mime: string; filename: string }>;
  setCover(creator: Principal, contentId: string, req: IncomingMessage): Promise<{ coverUrl: string }>;
  /** The room's replay, and where the signed-in caller stopped in it. */
  replay(principal: Principal | null, roomId: string): Promise<{ media: MediaInfo; progress?: WatchProgress | null }>;
  trimReplay(owner: Principal, roomId: string, input: unknown): Promise<MediaInfo>;
  deleteReplay(owner: Principal, roomId: string): Promise<void>;
  /** A lesson whose video is the replay, with its own price, description and tags. */
  replayToLesson(owner: Principal, roomId: string, input: unknown): Promise<Content>;
  playlist(assetId: string, subject: string | null, expiresAt: number): Promise<string>;
  saveProgress(user: Principal, input: unknown): Promise<WatchProgress>;
  library(user: Principal): Promise<LibraryItem[]>;
  /** The room ended: its recording becomes its replay (a compose job). */
  roomEnded(roomId: string): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export const trimSchema = z
  .strictObject({
    startSeconds: z.number().finite().min(0),
    endSeconds: z.number().finite().positive().nullable(),
  })
  .refine((t) => t.endSeconds === null || t.endSeconds > t.startSeconds, {
    message: 'endSeconds must be after startSeconds',
    path: ['endSeconds'],
  });

export const progressSchema = z
  .strictObject({
    contentId: id.optional(),
    roomId: id.optional(),
    positionSeconds: z
      .number()
      .finite()
      .min(0)
      .max(7 * 86_400),
    durationSeconds: z
      .number()
      .finite()
      .positive()
      .max(7 * 86_400),
  })
  .refine((p) => (p.contentId === undefined) !== (p.roomId === undefined), {
    message: 'give exactly one of contentId and roomId',
  });

const VIDEO_TYPES = /^(video\/[a-z0-9.+-]+|application\/octet-stream)$/;
const ATTACHMENT_TYPES = new Set(['application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'image/gif']);

export function createVod(deps: VodDeps): VodService {
  const { db, config, log, store } = deps;
  const ffmpegOptions: FfmpegOptions = { ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath };
  let ffmpeg: FfmpegStatus = { available: false, reason: 'not checked yet', version: null };
  const uploadsDir = path.join(config.dataDir, 'uploads');
  const playback = new Playback(db, deps.payments, deps.signer, config);
  const jobs = new MediaJobs({
    db,
    log: log.child({ component: 'media-jobs' }),
    nodeId: deps.nodeId,
    enabled: config.mediaJobsEnabled,
    concurrency: config.mediaJobsConcurrency,
    maxAttempts: config.mediaJobMaxAttempts,
    registry: deps.registry,
  });
  const handlers = packagingHandlers({
    db,
    store,
    ffmpeg: ffmpegOptions,
    config,
    log,
    workDir: path.join(config.dataDir, 'jobs'),
  });
  jobs.handle('package-upload', handlers['package-upload']).handle('compose-recording', handlers['compose-recording']);
  const recordings = new Recordings(db, store, deps.nodeId, log.child({ component: 'recordings' }), () => jobs.nudge());

  // --- contents ------------------------------------------------------------------------------

  async function ownContent(creator: Principal, contentId: string) {
    const row = await db
      .selectFrom('contents')
      .select(['id', 'creator_id', 'kind', 'media_asset_id', 'cover_key'])
      .where('id', '=', parse(id, contentId))
      .where('archived_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw notFound('content');
    if (row.creator_id !== creator.id && creator.role !== 'admin') throw forbidden('not your content');
    return row;
  }

  /** Soft-deletes an asset nothing points at any more, and removes its files. */
  async function releaseAsset(assetId: string | null): Promise<void> {
    if (!assetId || (await assetInUse(db, assetId))) return;
    await db
      .updateTable('media_assets')
      .set({ deleted_at: sql<Date>`now()` as never, updated_at: sql<Date>`now()` as never })
      .where('id', '=', assetId)
      .execute();
    await store.deletePrefix(MediaKeys.asset(assetId));
  }

  async function watchLevelOfContent(principal: Principal | null, contentId: string) {
    const content = await deps.catalog.getContent(contentId);
    return { content, level: await playback.contentLevel(principal, content) };
  }

  async function roomRow(roomId: string) {
    const room = await db
      .selectFrom('rooms')
      .select(['id', 'owner_id', 'access', 'status', 'replay_asset_id'])
      .where('id', '=', parse(id, roomId))
      .executeTakeFirst();
    if (!room) throw notFound('room');
    return room;
  }

  async function ownRoom(owner: Principal, roomId: string) {
    const room = await roomRow(roomId);
    if (room.owner_id !== owner.id && owner.role !== 'admin') throw forbidden('only the room owner can do this');
    return room;
  }

  const requireFfmpeg = () => {
    if (!ffmpeg.available) {
      throw new AppError('UNAVAILABLE', `video processing is unavailable on this server: ${ffmpeg.reason}`);
    }
  };

  return {
    recordings,
    ffmpegStatus: () => ffmpeg,

    async uploadContentVideo(creator, contentId, req) {
      const content = await ownContent(creator, contentId);
      if (content.kind !== 'lesson') throw invalidArgument('only lessons carry a video; add lessons to the course');
      requireFfmpeg();
      const file = await receiveFile(req, {
        dir: uploadsDir,
        maxBytes: config.mediaUploadMaxBytes,
        rawType: (t) => VIDEO_TYPES.test(t),
        rawTypeHint: 'video/*',
      });
      // The file is in the store before the row exists, so a job never starts on a missing source;
      // if the row cannot be written, the file goes again.
      const assetId = randomUUID();
      try {
        await store.putFile(MediaKeys.source(assetId), file.path, { move: true });
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('media_assets')
            .values({
              id: assetId,
              owner_id: content.creator_id,
              origin: 'upload',
              status: 'processing',
              source_bytes: file.bytes,
            })
            .execute();
          await trx.updateTable('contents').set({ media_asset_id: assetId }).where('id', '=', content.id).execute();
          await enqueueJob(trx, assetId, 'package-upload');
        });
      } catch (err) {
        await rm(file.path, { force: true });
        await store.delete(MediaKeys.source(assetId));
        throw err;
      }
      jobs.nudge();
      await releaseAsset(content.media_asset_id);
      return { id: assetId, status: 'processing', stage: 'queued', progress: 0 };
    },

    async contentVideo(principal, contentId) {
      const { content, level } = await watchLevelOfContent(principal, contentId);
      const row = await db
        .selectFrom('contents')
        .select('media_asset_id')
        .where('id', '=', content.id)
        .executeTakeFirstOrThrow();
      return playback.info(principal, level, row.media_asset_id);
    },

    async removeContentVideo(creator, contentId) {
      const content = await ownContent(creator, contentId);
      await db.updateTable('contents').set({ media_asset_id: null }).where('id', '=', content.id).execute();
      await releaseAsset(content.media_asset_id);
    },

    async contentDetails(principal, contentId) {
      const { content, level } = await watchLevelOfContent(principal, contentId);
      const may = level !== 'none';
      const viewer = principal && may ? principal.id : null;
      const [row, attachments, syllabus, progress] = await Promise.all([
        db.selectFrom('contents').select('notes').where('id', '=', content.id).executeTakeFirstOrThrow(),
        db
          .selectFrom('content_attachments')
          .select(['id', 'filename', 'mime', 'bytes'])
          .where('content_id', '=', content.id)
          .where('deleted_at', 'is', null)
          .orderBy('created_at')
          .execute(),
        content.kind === 'lesson' ? undefined : syllabusOf(content.id, viewer),
        viewer && content.kind === 'lesson' ? progressOf(viewer, 'content_id', content.id) : undefined,
      ]);
      return {
        canWatch: may,
        ...(syllabus ? { syllabus } : {}),
        ...(may ? { notes: row.notes } : {}),
        attachments: attachments.map((a) => ({
          id: a.id,
          filename: a.filename,
          mime: a.mime,
          bytes: a.bytes,
          ...(may ? playback.attachmentUrl(a.id, a.filename, principal?.id ?? null) : {}),
        })),
        ...(viewer && content.kind === 'lesson' ? { progress: progress ?? null } : {}),
      };
    },

    async addAttachment(creator, contentId, req, filename) {
      const content = await ownContent(creator, contentId);
      const { count } = await db
        .selectFrom('content_attachments')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('content_id', '=', content.id)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      if (Number(count) >= config.mediaAttachmentsPerContent) {
        throw conflict(`a content carries at most ${config.mediaAttachmentsPerContent} attachments`);
      }
      const file = await receiveFile(req, {
        dir: uploadsDir,
        maxBytes: config.mediaAttachmentMaxBytes,
        rawType: (t) => ATTACHMENT_TYPES.has(t),
        rawTypeHint: 'application/pdf, image/png, image/jpeg, image/webp or image/gif',
      });
      try {
        const mime = await sniff(file.path);
        if (!mime) throw invalidArgument('attachments are PDF files or PNG, JPEG, WebP or GIF images');
        const name = safeFilename(filename ?? file.filename, `attachment.${mime.split('/')[1]}`);
        const attachmentId = randomUUID();
        const key = MediaKeys.attachment(content.id, attachmentId);
        await store.putFile(key, file.path, { move: true });
        try {
          await db
            .insertInto('content_attachments')
            .values({
              id: attachmentId,
              content_id: content.id,
              filename: name,
              mime,
              bytes: file.bytes,
              storage_key: key,
            })
            .execute();
        } catch (err) {
          await store.delete(key);
          throw err;
        }
        return {
          id: attachmentId,
          filename: name,
          mime,
          bytes: file.bytes,
          ...playback.attachmentUrl(attachmentId, name, creator.id),
        };
      } finally {
        await rm(file.path, { force: true });
      }
    },

    async removeAttachment(creator, contentId, attachmentId) {
      const content = await ownContent(creator, contentId);
      const row = await db
        .updateTable('content_attachments')
        .set({ deleted_at: sql<Date>`now()` as never })
        .where('id', '=', parse(id, attachmentId))
        .where('content_id', '=', content.id)
        .where('deleted_at', 'is', null)
        .returning('storage_key')
        .executeTakeFirst();
      if (!row) throw notFound('attachment');
      await store.delete(row.storage_key);
    },

    async attachmentFile(attachmentId) {
      const row = await db
        .selectFrom('content_attachments')
        .select(['storage_key', 'mime', 'filename'])
        .where('id', '=', parse(id, attachmentId))
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (!row) throw notFound('attachment');
      return { key: row.storage_key, mime: row.mime, filename: row.filename };
    },

    async setCover(creator, contentId, req) {
      const content = await ownContent(creator, contentId);
      const key = MediaKeys.cover(content.id, Date.now().toString(36));
      const coverUrl = await deps.images.save(req, key, IMAGE_BOXES.cover, 'a cover');
      await db.updateTable('contents').set({ cover_key: key }).where('id', '=', content.id).execute();
      await deps.images.discard(content.cover_key);
      return { coverUrl };
    },

    async replay(principal, roomId) {
      const room = await roomRow(roomId);
      const level = await playback.roomLevel(principal, room);
      if (level === 'none') {
        // The replay may be on sale as a lesson: the refusal says which, for the buy button.
        const lesson = room.replay_asset_id
          ? await db
              .selectFrom('contents')
              .select('id')
              .where('media_asset_id', '=', room.replay_asset_id)
              .where('archived_at', 'is', null)
              .orderBy('created_at')
              .executeTakeFirst()
          : undefined;
        const refusal = refuse(principal);
        throw lesson ? new AppError(refusal.code, refusal.message, { details: { lessonId: lesson.id } }) : refusal;
      }
      const [media, progress] = await Promise.all([
        playback.info(principal, level, room.replay_asset_id),
        principal ? progressOf(principal.id, 'room_id', room.id) : undefined,
      ]);
      return principal ? { media, progress: progress ?? null } : { media };
    },

    async trimReplay(owner, roomId, input) {
      const room = await ownRoom(owner, roomId);
      const trim = parse(trimSchema, input);
      if (!room.replay_asset_id) throw notFound('replay');
      const asset = await loadAsset(db, room.replay_asset_id);
      if (asset?.status !== 'ready') throw conflict('the replay can be trimmed once it is ready');
      const kept = trimmedSegments({
        ...asset,
        trim_start_seconds: trim.startSeconds,
        trim_end_seconds: trim.endSeconds,
      });
      if (kept.segments.length === 0) throw invalidArgument('the trim leaves nothing of the replay');
      await db
        .updateTable('media_assets')
        .set({
          trim_start_seconds: trim.startSeconds,
          trim_end_seconds: trim.endSeconds,
          playable_seconds: kept.durationSeconds,
          updated_at: sql<Date>`now()` as never,
        })
        .where('id', '=', asset.id)
        .execute();
      return playback.info(owner, 'owner', asset.id);
    },

    async deleteReplay(owner, roomId) {
      const room = await ownRoom(owner, roomId);
      if (room.status !== 'ended') throw conflict('the room is not over yet: turn its recording off instead');
      if (!room.replay_asset_id) throw notFound('replay');
      await db.updateTable('rooms').set({ replay_asset_id: null }).where('id', '=', room.id).execute();
      // A lesson made from the replay keeps its video.
      await releaseAsset(room.replay_asset_id);
    },

    async replayToLesson(actor, roomId, input) {
      const room = await ownRoom(actor, roomId);
      if (!room.replay_asset_id) throw notFound('replay');
      const fields = parse(z.looseObject({}), input);
      // The lesson is the room owner's whoever makes it (an admin acts for them): its sales are theirs.
      const seller =
        room.owner_id === actor.id
          ? actor
          : await db
              .selectFrom('users')
              .select(['id', 'username', 'role'])
              .where('id', '=', room.owner_id)
              .executeTakeFirstOrThrow();
      const content = await deps.catalog.createContent(seller, { ...fields, kind: 'lesson' });
      await db
        .updateTable('contents')
        .set({ media_asset_id: room.replay_asset_id })
        .where('id', '=', content.id)
        .execute();
      return deps.catalog.getContent(content.id);
    },

    playlist: (assetId, subject, expiresAt) => playback.playlist(assetId, subject, expiresAt),

    async saveProgress(user, input) {
      const p = parse(progressSchema, input);
      // A creator watching their own video keeps a position but is nobody's viewer.
      const recordFor = (level: WatchLevel) => (level === 'owner' ? () => {} : deps.record);
      if (p.contentId) {
        const { content, level } = await watchLevelOfContent(user, p.contentId);
        if (level === 'none') throw refuse(user);
        return saveProgress(
          db,
          { userId: user.id, item: { kind: 'content', contentId: content.id }, creatorId: content.creatorId, ...p },
          recordFor(level),
        );
      }
      const room = await roomRow(p.roomId!);
      const level = await playback.roomLevel(user, room);
      if (level === 'none') throw refuse(user);
      return saveProgress(
        db,
        { userId: user.id, item: { kind: 'replay', roomId: room.id }, creatorId: room.owner_id, ...p },
        recordFor(level),
      );
    },

    library: (user) => libraryOf(db, config, user.id),

    roomEnded: (roomId) => recordings.roomEnded(roomId),

    async start() {
      ffmpeg = await checkFfmpeg(ffmpegOptions);
      if (!ffmpeg.available) {
        log.error({ reason: ffmpeg.reason }, 'ffmpeg is unavailable: no recordings, uploads or replays on this node');
        return;
      }
      log.info({ version: ffmpeg.version }, 'ffmpeg found');
      jobs.start();
    },

    close: () => jobs.close(),
  };

  /** Where the user stopped in a lesson (`content_id`) or a replay (`room_id`). */
  async function progressOf(userId: string, column: 'content_id' | 'room_id', itemId: string) {
    const row = await db
      .selectFrom('watch_progress')
      .selectAll()
      .where('user_id', '=', userId)
      .where(column, '=', itemId)
      .executeTakeFirst();
    return row ? toWatchProgress(row) : null;
  }

  /** A course's or bundle's items; with a viewer who may watch it, where they stopped in each. */
  async function syllabusOf(contentId: string, viewerId: string | null): Promise<SyllabusItem[]> {
    const rows = await db
      .selectFrom('content_items as i')
      .innerJoin('contents as c', 'c.id', 'i.item_id')
      .leftJoin('media_assets as a', (join) =>
        join.onRef('a.id', '=', 'c.media_asset_id').on('a.deleted_at', 'is', null),
      )
      .leftJoin('watch_progress as w', (join) =>
        join
          .onRef('w.content_id', '=', 'c.id')
          .on('w.user_id', '=', viewerId ?? '00000000-0000-0000-0000-000000000000'),
      )
      .select([
        'c.id',
        'c.title',
        'c.kind',
        'c.price',
        'c.free_trial',
        'c.cover_key',
        'c.media_asset_id',
        'a.status',
        'a.playable_seconds',
        'w.position_seconds',
        'w.duration_seconds as progress_duration',
        'w.completed_at',
        'w.updated_at as progress_at',
      ])
      .where('i.parent_id', '=', contentId)
      .where('c.archived_at', 'is', null)
      .orderBy('i.position')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      kind: r.kind,
      price: r.price,
      freeTrial: r.free_trial,
      hasVideo: r.media_asset_id !== null,
      durationSeconds: r.status ? playableSeconds({ status: r.status, playable_seconds: r.playable_seconds }) : null,
      coverUrl: r.cover_key ? mediaUrl(config, r.cover_key) : null,
      ...(viewerId
        ? {
            progress:
              r.position_seconds === null || r.progress_at === null
                ? null
                : toWatchProgress({
                    position_seconds: r.position_seconds,
                    duration_seconds: r.progress_duration ?? 0,
                    completed_at: r.completed_at,
                    updated_at: r.progress_at,
                  }),
          }
        : {}),
    }));
  }
}
