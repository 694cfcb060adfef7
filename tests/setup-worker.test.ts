import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
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

it('caches a worker found in node_modules when the cache has none, so the next clean clone is fast', () => {
  mkdirSync(path.dirname(installed()), { recursive: true });
  copyFileSync(realWorker, installed());
  const cached = run(['--cache-path']).output.trim();
  expect(existsSync(cached)).toBe(false);
  const first = run(['--strict']);
  expect(first.status).toBe(0);
  expect(first.output).toContain(`cached: ${cached}`);
  expect(statSync(cached).mode & 0o111).not.toBe(0);
  expect(run(['--strict']).output).not.toContain('cached:');
  // A clean clone (no worker in node_modules) now installs it from the cache.
  rmSync(installed());
  expect(run(['--strict']).output).toContain('installed cached worker');
});

it('an unexpected failure is a warning normally, a failure with --strict', () => {
  writeFileSync(path.join(project, 'node_modules/mediasoup/package.json'), 'not json');
  const lenient = run([]);
  expect(lenient.status).toBe(0);
  expect(lenient.output).toContain('unexpected failure');
  expect(lenient.output).toContain('media requests with UNAVAILABLE');
  const strict = run(['--strict']);
  expect(strict.status).not.toBe(0);
  expect(strict.output).toContain('unexpected failure');
});

describe('on a machine without the build tools', () => {
  /**
   * A PATH like the real one minus the build tools (meson, ninja, flatc, pkg-config) and curl (no
   * GitHub), with stand-ins for `id` (root), `apt-get` (records that it ran) and `dpkg-query`
   * (knows the run-time libraries only once apt-get ran, as on a fresh machine).
   */
  let bin: string;
  let aptRan: string;
  beforeEach(() => {
    bin = path.join(project, 'bin');
    aptRan = path.join(project, 'apt-ran');
    mkdirSync(bin);
    const hidden = new Set(['meson', 'ninja', 'flatc', 'pkg-config', 'curl', 'id', 'apt-get', 'dpkg-query']);
    for (const dir of (process.env.PATH ?? '').split(':')) {
      if (!dir || !existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (hidden.has(name) || existsSync(path.join(bin, name))) continue;
        symlinkSync(path.join(dir, name), path.join(bin, name));
      }
    }
    const fake = (name: string, body: string) => {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    };
    fake('id', 'echo 0');
    fake('apt-get', `touch '${aptRan}'`);
    fake('dpkg-query', `[ -f '${aptRan}' ] || exit 1\necho libssl3=3.0.0-fake; echo libuv1=1.44.0-fake`);
  });
  const env = (extra: Record<string, string> = {}) => ({ PATH: bin, LECTERN_NO_APT: '', ...extra });
  const keyPath = () => run(['--cache-path'], env()).output.trim();

  it('with LECTERN_NO_APT: a warning naming what is missing, or a failure with --strict', () => {
    const lenient = run([], env({ LECTERN_NO_APT: '1' }));
    expect(lenient.status).toBe(0);
    expect(lenient.output).toContain('cannot build the worker, missing: meson ninja pkg-config');
    expect(lenient.output).toContain('media requests with UNAVAILABLE');
    expect(run(['--strict'], env({ LECTERN_NO_APT: '1' })).status).not.toBe(0);
    expect(existsSync(aptRan)).toBe(false);
  });

  it('looks the cache up again under the key the installed libraries give', () => {
    const before = keyPath();
    writeFileSync(aptRan, '');
    const after = keyPath();
    rmSync(aptRan);
    expect(after).not.toBe(before); // the libraries' versions are part of the key
    mkdirSync(path.dirname(after), { recursive: true });
    copyFileSync(realWorker, after);
    const { status, output } = run(['--strict'], env());
    expect(output).toContain('installing build packages');
    expect(output).toContain('installed cached worker');
    expect(status).toBe(0);
    expect(existsSync(installed())).toBe(true);
  });

  it('builds for the key the next install computes (the stand-in sources make the build fail at once)', () => {
    const before = keyPath();
    const lenient = run([], env());
    expect(existsSync(aptRan)).toBe(true);
    const after = keyPath();
    expect(after).not.toBe(before);
    expect(lenient.output).toContain(`to be cached as ${after}`);
    expect(lenient.output).toContain('unexpected failure');
    expect(lenient.status).toBe(0);
    expect(run(['--strict'], env()).status).not.toBe(0);
  });
});
