import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { MediaStore } from './media-store';

/**
 * What every MediaStore must do, run against each implementation (the local disk today; an
 * object store would call this with its own factory).
 */
export function mediaStoreContract(name: string, open: () => Promise<{ store: MediaStore; cleanup(): Promise<void> }>) {
  describe(`MediaStore contract: ${name}`, () => {
    let store: MediaStore;
    let cleanup: () => Promise<void>;
    let scratch: string;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
      scratch = mkdtempSync(path.join(tmpdir(), 'lectern-store-contract-'));
    });
    afterEach(async () => {
      await cleanup();
      rmSync(scratch, { recursive: true, force: true });
    });

    const local = (content: string) => {
      const file = path.join(scratch, `f-${Math.random().toString(36).slice(2)}`);
      writeFileSync(file, content);
      return file;
    };

    it('stores a file and reads it back, whole or by range', async () => {
      const stored = await store.putFile('assets/a1/hls/seg_00000.ts', local('0123456789'));
      expect(stored).toMatchObject({ key: 'assets/a1/hls/seg_00000.ts', size: 10 });
      expect(await text(await store.read('assets/a1/hls/seg_00000.ts'))).toBe('0123456789');
      expect(await text(await store.read('assets/a1/hls/seg_00000.ts', { start: 2, end: 4 }))).toBe('234');
      expect((await store.stat('assets/a1/hls/seg_00000.ts'))?.size).toBe(10);
    });

    it('takes the file when asked to move it, copies it otherwise', async () => {
      const kept = local('kept');
      await store.putFile('k/copied', kept);
      expect(readFileSync(kept, 'utf8')).toBe('kept');
      const moved = local('moved');
      await store.putFile('k/moved', moved, { move: true });
      expect(() => readFileSync(moved)).toThrow();
      expect(await text(await store.read('k/moved'))).toBe('moved');
    });

    it('stores nothing when a stream fails half-way', async () => {
      const failing = new Readable({
        read() {
          this.push('half of it');
          this.destroy(new Error('the client hung up'));
        },
      });
      await expect(store.putStream('k/partial', failing)).rejects.toThrow();
      expect(await store.stat('k/partial')).toBeNull();
      expect(await store.list('k/')).toEqual([]);
    });

    it('says when there is no object', async () => {
      expect(await store.stat('nothing/here')).toBeNull();
      await expect(store.read('nothing/here')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.localCopy('nothing/here')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('lists and deletes by prefix, and only that prefix', async () => {
      await store.putFile('assets/x/hls/a', local('a'));
      await store.putFile('assets/x/hls/b', local('b'));
      await store.putFile('assets/x/parts/0000.mkv', local('p'));
      await store.putFile('assets/xy/hls/a', local('other asset'));
      expect((await store.list('assets/x/hls/')).map((o) => o.key)).toEqual(['assets/x/hls/a', 'assets/x/hls/b']);
      expect(await store.deletePrefix('assets/x/')).toBe(3);
      expect(await store.list('assets/x/')).toEqual([]);
      expect((await store.list('assets/xy/')).map((o) => o.key)).toEqual(['assets/xy/hls/a']);
      expect(await store.deletePrefix('assets/none/')).toBe(0);
    });

    it('gives a local path for tools', async () => {
      await store.putFile('k/tool', local('for ffmpeg'));
      const copy = await store.localCopy('k/tool');
      expect(readFileSync(copy.path, 'utf8')).toBe('for ffmpeg');
      await copy.release();
    });

    it.each(['../escape', 'a/../../etc/passwd', '/absolute', 'a//b', '.hidden', 'a/.tmp/x', '', 'a/b\\c', 'a b'])(
      'refuses the key %j',
      async (key) => {
        await expect(store.putFile(key, local('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        await expect(store.read(key)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      },
    );
  });
}
