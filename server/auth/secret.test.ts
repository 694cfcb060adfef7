import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIN_SECRET_LENGTH, resolveJwtSecret } from './secret';

const dataDir = () => mkdtempSync(path.join(tmpdir(), 'lectern-secret-'));

describe('the embedded JWT secret', () => {
  it('is made once, kept private, and the same on the next start', () => {
    const dir = dataDir();
    const first = resolveJwtSecret({ dataDir: dir });
    expect(first.length).toBeGreaterThanOrEqual(MIN_SECRET_LENGTH);
    expect(resolveJwtSecret({ dataDir: dir })).toBe(first);
    expect(statSync(path.join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    // Written through a temporary file renamed into place: nothing else is left behind.
    expect(readdirSync(dir)).toEqual(['jwt-secret']);
  });

  it.each([
    ['empty (a crash while it was written)', ''],
    ['too short', 'short-secret'],
  ])('is refused when the file is %s, never used to sign or check tokens', (_what, content) => {
    const dir = dataDir();
    writeFileSync(path.join(dir, 'jwt-secret'), content);
    expect(() => resolveJwtSecret({ dataDir: dir })).toThrow(/fewer than the 32 a token secret needs/);
    expect(readFileSync(path.join(dir, 'jwt-secret'), 'utf8')).toBe(content);
  });

  it('JWT_SECRET wins over the file', () => {
    const dir = dataDir();
    writeFileSync(path.join(dir, 'jwt-secret'), '');
    expect(resolveJwtSecret({ dataDir: dir, jwtSecret: 'x'.repeat(40) })).toBe('x'.repeat(40));
  });
});
