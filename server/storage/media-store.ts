import type { Readable } from 'node:stream';
import { invalidArgument } from '../errors';

/** What the store knows of one object. */
export interface StoredObject {
  key: string;
  size: number;
  modifiedAt: Date;
}

/** An inclusive byte range, as HTTP Range requests name them. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A file on local disk standing for a stored object, for tools that need a path (ffmpeg). */
export interface LocalCopy {
  path: string;
  /** Removes the copy when the store had to make one; a no-op for a local store's own file. */
  release(): Promise<void>;
}

/**
 * Where videos, attachments and covers live: a flat key space of immutable objects. The
 * local-disk store is the default; an object store (S3, GCS, MinIO) implements the same port
 * (docs/vod.md says how a deployment puts segments behind a CDN). Every write is atomic: an
 * object is either absent or complete, so a crash mid-upload leaves nothing half-made behind.
 */
export interface MediaStore {
  readonly kind: string;
  /** Stores the file at `localPath` under `key`; with `move`, the file is taken (renamed when it can be). */
  putFile(key: string, localPath: string, options?: { move?: boolean }): Promise<StoredObject>;
  /** Stores what the stream yields; nothing is stored if it fails. */
  putStream(key: string, body: Readable): Promise<StoredObject>;
  /** Null when there is no such object. */
  stat(key: string): Promise<StoredObject | null>;
  /** The object's bytes (or `range` of them); rejects with NOT_FOUND when there is none. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  localCopy(key: string): Promise<LocalCopy>;
  /** Objects whose key starts with `prefix` (a folder: end it with `/`), sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deletes every object under the prefix; returns how many. Safe for a prefix with nothing. */
  deletePrefix(prefix: string): Promise<number>;
  delete(key: string): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Keys are `/`-separated segments of letters, digits and `._-`, none starting with a dot: no
 * `..`, no absolute paths, no empty segments, so no key can name anything outside the store.
 */
export function checkKey(key: string, { prefix = false } = {}): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) throw invalidArgument('bad media key');
  const parts = key.split('/');
  if (prefix && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || !parts.every((p) => SEGMENT.test(p))) throw invalidArgument('bad media key');
  return key;
}

/** Where an asset's files go. One place for the layout every subsystem shares. */
export const MediaKeys = {
  asset: (assetId: string) => `assets/${assetId}/`,
  source: (assetId: string) => `assets/${assetId}/source`,
  part: (assetId: string, seq: number) => `assets/${assetId}/parts/${String(seq).padStart(4, '0')}.mkv`,
  parts: (assetId: string) => `assets/${assetId}/parts/`,
  hls: (assetId: string) => `assets/${assetId}/hls/`,
  hlsFile: (assetId: string, file: string) => `assets/${assetId}/hls/${file}`,
  attachment: (contentId: string, attachmentId: string) => `attachments/${contentId}/${attachmentId}`,
  cover: (contentId: string, version: string) => `public/covers/${contentId}/${version}.jpg`,
  /** A creator's avatar; a new upload gets a new version (the URL is cached as immutable). */
  avatar: (userId: string, version: string) => `public/avatars/${userId}/${version}.jpg`,
  roomCover: (roomId: string, version: string) => `public/room-covers/${roomId}/${version}.jpg`,
} as const;
