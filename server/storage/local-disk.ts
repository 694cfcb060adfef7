import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { notFound } from '../errors';
import { type ByteRange, checkKey, type LocalCopy, type MediaStore, type StoredObject } from './media-store';

/**
 * The MediaStore on a local directory (`MEDIA_STORE_DIR`, default `DATA_DIR/media`). Writes go to
 * a temporary file in `<root>/.tmp` and are renamed into place, so readers never see half an
 * object; the temporary directory is emptied at start (what a crash left there).
 */
export class LocalDiskStore implements MediaStore {
  readonly kind = 'local';
  private readonly tmp: string;
  private ready: Promise<void> | null = null;

  constructor(readonly root: string) {
    this.root = path.resolve(root);
    this.tmp = path.join(this.root, '.tmp');
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await rm(this.tmp, { recursive: true, force: true });
      await mkdir(this.tmp, { recursive: true });
    })();
    return this.ready;
  }

  /** The file a key names; the key check keeps it inside the root. */
  pathOf(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  private async place(key: string, write: (tmpFile: string) => Promise<void>): Promise<StoredObject> {
    await this.init();
    const target = this.pathOf(key);
    const tmpFile = path.join(this.tmp, randomUUID());
    try {
      await write(tmpFile);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmpFile, target);
    } catch (err) {
      await rm(tmpFile, { force: true });
      throw err;
    }
    return (await this.stat(key))!;
  }

  async putFile(key: string, localPath: string, options: { move?: boolean } = {}): Promise<StoredObject> {
    return this.place(key, async (tmpFile) => {
      if (options.move) {
        try {
          await rename(localPath, tmpFile);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        }
        await copyFile(localPath, tmpFile);
        await unlink(localPath);
        return;
      }
      await copyFile(localPath, tmpFile);
    });
  }

  putStream(key: string, body: Readable): Promise<StoredObject> {
    return this.place(key, (tmpFile) => pipeline(body, createWriteStream(tmpFile)));
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { key, size: s.size, modifiedAt: s.mtime } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.pathOf(key);
    if (!(await this.stat(key))) throw notFound('media');
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async localCopy(key: string): Promise<LocalCopy> {
    if (!(await this.stat(key))) throw notFound('media');
    return { path: this.pathOf(key), release: async () => {} };
  }

  async list(prefix: string): Promise<StoredObject[]> {
    checkKey(prefix, { prefix: true });
    // The folder the prefix is in (or is), walked recursively; keys filtered by the prefix.
    const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix.split('/').slice(0, -1).join('/');
    const out: StoredObject[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(path.join(this.root, ...rel.split('/').filter(Boolean)), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const entry of entries) {
        const key = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(key);
        else if (entry.isFile() && key.startsWith(prefix)) {
          const found = await this.stat(key);
          if (found) out.push(found);
        }
      }
    };
    await walk(folder);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    await Promise.all(objects.map((o) => rm(this.pathOf(o.key), { force: true })));
    if (prefix.endsWith('/')) {
      await rm(path.join(this.root, ...prefix.split('/').filter(Boolean)), { recursive: true, force: true });
    }
    return objects.length;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
