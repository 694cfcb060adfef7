import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './helpers/process';

/**
 * scripts/mediasoup/setup-worker.sh, run against a throwaway project folder (a copy of the
 * script and its shims, and a stand-in node_modules/mediasoup) so the real install is untouched.
 * The offline build itself (minutes) runs in CI's `npm run setup:media` on a cold cache.
 */
const realWorker = path.join(ROOT, 'node_modules/mediasoup/worker/out/Release/mediasoup-worker');
let project: string;
let cache: string;

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(path.join(project, 'scripts/mediasoup/setup-worker.sh'), args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LECTERN_CACHE_DIR: cache,
      LECTERN_NO_APT: '1',
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

beforeEach(() => {
  project = mkdtempSync(path.join(tmpdir(), 'lectern-setup-worker-'));
  cache = path.join(project, 'cache');
  cpSync(path.join(ROOT, 'scripts/mediasoup'), path.join(project, 'scripts/mediasoup'), { recursive: true });
  mkdirSync(path.join(project, 'node_modules/mediasoup/worker'), { recursive: true });
  writeFileSync(path.join(project, 'node_modules/mediasoup/package.json'), JSON.stringify({ version: '3.19.3' }));
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

const installed = () => path.join(project, 'node_modules/mediasoup/worker/out/Release/mediasoup-worker');

/** Puts the real worker where the script's cache key says this project's build belongs. */
function seedCache(): string {
  const cached = execFileSync(path.join(project, 'scripts/mediasoup/setup-worker.sh'), ['--cache-path'], {
    env: { PATH: process.env.PATH ?? '', HOME: '/tmp', LECTERN_CACHE_DIR: cache },
    encoding: 'utf8',
  }).trim();
  mkdirSync(path.dirname(cached), { recursive: true });
  copyFileSync(realWorker, cached);
  chmodSync(cached, 0o755);
  return cached;
}

it('installs a cached worker for this version, recipe and system libraries', () => {
  expect(seedCache().startsWith(path.join(cache, 'mediasoup-worker', '3.19.3-'))).toBe(true);
  const { status, output } = run(['--strict']);
  expect(status).toBe(0);
  expect(output).toContain('installed cached worker');
  expect(statSync(installed()).mode & 0o111).not.toBe(0);
  // Present now: a second run does nothing.
  expect(run(['--strict']).output).toContain('worker present');
});

it('a change to a shim changes the cache key; a change to a comment does not', () => {
  const key = () => run(['--cache-path']).output.trim();
  const before = key();
  const script = path.join(project, 'scripts/mediasoup/setup-worker.sh');
  writeFileSync(script, `${readFileSync(script, 'utf8')}\n# a comment\n`);
  expect(key()).toBe(before);
  writeFileSync(path.join(project, 'scripts/mediasoup/shims/openssl/empty.c'), '/* changed */\n');
  expect(key()).not.toBe(before);
});

it('prefers a runnable MEDIASOUP_WORKER_BIN and ignores one that cannot run', () => {
  expect(run(['--strict'], { MEDIASOUP_WORKER_BIN: realWorker }).output).toContain('using MEDIASOUP_WORKER_BIN');
  expect(existsSync(installed())).toBe(false);
  seedCache();
  const bogus = run(['--strict'], { MEDIASOUP_WORKER_BIN: '/nonexistent/worker' });
  expect(bogus.output).toContain('is not runnable here');
  expect(bogus.output).toContain('installed cached worker');
  expect(existsSync(installed())).toBe(true);
});

it('without mediasoup installed: a warning normally, a failure with --strict', () => {
  rmSync(path.join(project, 'node_modules'), { recursive: true });
  const lenient = run([]);
  expect(lenient.status).toBe(0);
  expect(lenient.output).toContain('media requests with UNAVAILABLE');
  expect(run(['--strict']).status).not.toBe(0);
});
