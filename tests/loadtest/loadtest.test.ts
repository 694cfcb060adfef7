import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/process';
import { startTestServer, type TestServer } from '../helpers/server';

/**
 * The load generator (`npm run loadtest`, `npx lectern-loadtest`): its help, and a tiny real run
 * against a test server — 20 viewers over 2 rooms for 5 s on worker threads — whose JSON line
 * and HTML report are checked.
 */
let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer({ MAX_CONNECTIONS_PER_IP: '1000', SOCKET_EVENTS_PER_SECOND: '100' });
  dir = mkdtempSync(path.join(tmpdir(), 'lectern-loadtest-'));
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a command without blocking this process (the server under test lives in it). */
function run(command: string, args: string[], timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

it('`npm run loadtest -- --help` lists the options and exits 0 without connecting anywhere', async () => {
  const { code, stdout } = await run('npm', ['run', '--silent', 'loadtest', '--', '--help'], 60_000);
  expect(code).toBe(0);
  for (const option of [
    '--url',
    '--viewers',
    '--rooms',
    '--ramp',
    '--duration',
    '--chat-rate',
    '--like-rate',
    '--tip-rate',
    '--vote-rate',
    '--workers',
    '--report',
    '--allow-remote',
  ]) {
    expect(stdout).toContain(option);
  }
});

it('refuses a remote target and an unbounded load', async () => {
  const bin = path.join(ROOT, 'scripts/loadtest/bin.cjs');
  const remote = await run(process.execPath, [bin, '--url', 'http://192.0.2.1:3000'], 30_000);
  expect(remote.code).toBe(2);
  expect(remote.stderr).toContain('--allow-remote');
  const huge = await run(process.execPath, [bin, '--viewers', '1000000'], 30_000);
  expect(huge.code).toBe(2);
  expect(huge.stderr).toContain('--viewers');
});

it('drives 20 viewers over 2 rooms and reports latencies, deliveries, server CPU and an HTML report', async () => {
  const report = path.join(dir, 'report.html');
  const { code, stdout, stderr } = await run(
    'npx',
    [
      '--no-install',
      'lectern-loadtest',
      ...['--url', server.url, '--viewers', '20', '--rooms', '2', '--duration', '5', '--ramp', '100'],
      ...['--chat-rate', '0.5', '--like-rate', '0.5', '--tip-rate', '0.1', '--vote-rate', '0.2'],
      // A longer drain than the default: on a busy machine the last answers still arrive in it.
      ...['--workers', '2', '--drain', '4', '--report', report],
    ],
    90_000,
  );
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const result = JSON.parse(lines[0]);

  expect(result).toMatchObject({ url: server.url, viewers: 20, rooms: 2, workers: 2, peakConnected: 20 });
  for (const field of ['connectMs', 'joinMs', 'deliveryLatencyMs']) {
    expect(result[field]).toEqual({
      count: expect.any(Number),
      p50: expect.any(Number),
      p95: expect.any(Number),
      p99: expect.any(Number),
      max: expect.any(Number),
    });
  }
  expect(result.connectMs.count).toBe(20);
  expect(result.deliveries).toBeGreaterThan(0);
  expect(result.deliveryLatencyMs.count).toBe(result.deliveries);
  expect(result.deliveryLatencyMs.p50).toBeGreaterThan(0);
  expect(result.deliveriesPerSecond).toBeGreaterThan(0);
  expect(result.errors).toEqual({ total: 0, byCode: {}, byEvent: {} });
  // Every kind of event went out and was acknowledged.
  for (const event of ['chat:send', 'like:send', 'tip:send', 'poll:vote']) {
    expect(result.sent[event]).toBeGreaterThan(0);
    expect(result.acks[event].ok).toBe(result.sent[event]);
  }
  expect(result.acks['room:join'].ok).toBe(20);
  // The server's process, read from its /metrics, and the generator's own CPU.
  expect(result.server.cpuSeconds).toBeGreaterThan(0);
  expect(result.server.rssMb).toBeGreaterThan(0);
  expect(result.generator.cpuSeconds).toBeGreaterThan(0);

  expect(result.report).toBe(report);
  expect(existsSync(report)).toBe(true);
  const html = readFileSync(report, 'utf8');
  expect(html).toContain('<svg');
  expect(html).toContain('Delivery latency');
  // Self-contained: nothing loaded from elsewhere.
  expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)=/i);
}, 120_000);
