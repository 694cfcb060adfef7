import pino from 'pino';
import type * as ServerHelpers from '../helpers/server';
import type { Account, TestServer } from '../helpers/server';
import { closeAllSockets, connect, next, ok, refused } from '../helpers/socket';

/**
 * A node with media enabled but no runnable worker: it still serves, says why media is missing
 * (log and /healthz), and answers media requests with UNAVAILABLE.
 */
const BOGUS_WORKER = '/nonexistent/mediasoup-worker';
const logLines: Array<{ level: number; msg: string; reason?: string }> = [];
let s: TestServer;
let owner: Account;
let savedWorkerBin: string | undefined;

beforeAll(async () => {
  // mediasoup reads MEDIASOUP_WORKER_BIN once, when it is first loaded: set it before the server
  // (and mediasoup with it) is loaded into this test file's module registry.
  savedWorkerBin = process.env.MEDIASOUP_WORKER_BIN;
  process.env.MEDIASOUP_WORKER_BIN = BOGUS_WORKER;
  const { startTestServer } = require('../helpers/server') as typeof ServerHelpers;
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  s = await startTestServer({ MEDIA_ENABLED: 'true', MEDIA_WORKERS: '1' }, { log });
  owner = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(async () => {
  await s?.close();
  if (savedWorkerBin === undefined) delete process.env.MEDIASOUP_WORKER_BIN;
  else process.env.MEDIASOUP_WORKER_BIN = savedWorkerBin;
});

describe('a node whose media worker cannot run', () => {
  it('starts, and says in its log and /healthz that media is unavailable, and why', async () => {
    const health = await s.api.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.checks.media).toMatchObject({ ok: false, required: false });
    expect(health.body.checks.media.detail).toContain(`not found or not executable at ${BOGUS_WORKER}`);
    expect(health.body.checks.database.ok).toBe(true);
    const logged = logLines.find((l) => /media is unavailable/.test(l.msg));
    expect(logged?.reason).toContain(BOGUS_WORKER);
  });

  it('answers media requests with UNAVAILABLE and still serves chat', async () => {
    const room = await s.api.room(owner.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const studio = await connect(s.url, owner.token);
    await ok(studio, 'room:join', { roomId: room.id });
    expect(await refused(studio, 'media:join', { roomId: room.id })).toBe('UNAVAILABLE');

    const viewer = await connect(s.url, (await s.api.register()).token);
    await ok(viewer, 'room:join', { roomId: room.id });
    expect(await refused(viewer, 'media:join', { roomId: room.id })).toBe('UNAVAILABLE');
    // Before media:join the plane is not even asked: the gateway's own rule answers.
    expect(await refused(viewer, 'media:transport:create', { roomId: room.id, direction: 'recv' })).toBe('CONFLICT');

    const heard = next(studio, 'chat:message');
    await ok(viewer, 'chat:send', { roomId: room.id, text: 'can anyone see the stream?' });
    expect((await heard).text).toBe('can anyone see the stream?');
  });
});
