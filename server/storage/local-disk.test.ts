import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalDiskStore } from './local-disk';
import { mediaStoreContract } from './media-store.contract';
import { MediaUrlSigner } from './signed-urls';

mediaStoreContract('local disk', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lectern-store-'));
  return { store: new LocalDiskStore(root), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});

it('leaves no temporary files behind, and clears what a crash left at start', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lectern-store-'));
  try {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(path.join(root, '.tmp'), { recursive: true });
    writeFileSync(path.join(root, '.tmp', 'left-by-a-crash'), 'x');
    const store = new LocalDiskStore(root);
    const file = path.join(root, 'source');
    writeFileSync(file, 'data');
    await store.putFile('k/one', file);
    expect(readdirSync(path.join(root, '.tmp'))).toEqual([]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

describe('signed media URLs', () => {
  const signer = new MediaUrlSigner('a-secret-of-at-least-thirty-two-characters', true);
  const query = (q: string) => Object.fromEntries(new URLSearchParams(q));
  const now = 1_800_000_000;

  it('open one path for one subject until the expiry', () => {
    const q = query(signer.query('a/x/index.m3u8', 'user-1', now + 60));
    expect(signer.check('a/x/index.m3u8', q, now)).toEqual({ ok: true, subject: 'user-1', expiresAt: now + 60 });
    expect(signer.check('a/x/seg_00000.ts', q, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(signer.check('a/x/index.m3u8', { ...q, u: 'user-2' }, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(signer.check('a/x/index.m3u8', { ...q, e: String(now + 3600) }, now)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(signer.check('a/x/index.m3u8', q, now + 61)).toEqual({ ok: false, reason: 'expired' });
    expect(signer.check('a/x/index.m3u8', {}, now)).toEqual({ ok: false, reason: 'unsigned' });
  });

  it('sign guests as "-" and differ by key', () => {
    const q = query(signer.query('f/1/a.pdf', null, now + 60));
    expect(q.u).toBe('-');
    expect(signer.check('f/1/a.pdf', q, now)).toMatchObject({ ok: true, subject: null });
    const other = new MediaUrlSigner('another-secret-of-at-least-thirty-two-chars', true);
    expect(other.check('f/1/a.pdf', q, now)).toEqual({ ok: false, reason: 'bad-signature' });
  });
});
