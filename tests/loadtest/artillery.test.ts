import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { ROOT } from '../helpers/process';
import { startTestServer, type TestServer } from '../helpers/server';

/**
 * loadtest/artillery.yml, run by Artillery with the Socket.IO v4 engine against a real server:
 * every virtual user registers, connects with its own token, joins, likes and chats, and every
 * event is acknowledged `ok`. Short (4 s of arrivals, 8 users); telemetry off, loopback only.
 */
let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(path.join(tmpdir(), 'lectern-artillery-'));
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a command without blocking this process (the server under test lives in it). */
function run(command: string, args: string[], timeoutMs: number) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it('runs the scenario with a token per virtual user: no errors, every emit acknowledged', async () => {
  const report = path.join(dir, 'artillery.json');
  const { code, output } = await run(
    path.join(ROOT, 'node_modules/.bin/artillery'),
    ['run', 'loadtest/artillery.yml', '--target', server.url, '--output', report, '--quiet'],
    90_000,
  );
  expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });

  const counters: Record<string, number> = JSON.parse(readFileSync(report, 'utf8')).aggregate.counters;
  expect(Object.keys(counters).filter((k) => k.startsWith('errors.'))).toEqual([]);
  // 4 s at 2 arrivals a second; each user: join, then 3 × (like, chat).
  const users = 8;
  expect(counters).toMatchObject({
    'vusers.created': users,
    'vusers.completed': users,
    'lectern.viewers_registered': users,
    'engine.socketio.emit': users * 7,
    'lectern.acks': users * 7,
  });
  expect(counters['vusers.failed'] ?? 0).toBe(0);

  // The chats really landed, as the signed-in users they were sent by.
  const { rows } = await sql<{ n: number; authors: number }>`
    SELECT count(*)::int AS n, count(DISTINCT user_id)::int AS authors
    FROM chat_messages WHERE text = 'hello from artillery'
  `.execute(server.lectern.database.db);
  expect(rows[0]).toEqual({ n: users * 3, authors: users });
}, 120_000);
