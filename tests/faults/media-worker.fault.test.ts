import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, type OpenPage, openPage, until } from '../e2e/browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { type ServerProcess, spawnServer } from '../helpers/process';
import { type Account, Api, TEST_JWT_SECRET } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, ok } from '../helpers/socket';

/**
 * A mediasoup worker SIGKILLed under a live room, in a real server process: the server stays
 * up, the pool starts a replacement, the room's media is reset (`media:reset`), and the studio
 * page (publishing a fake camera from headless Chromium) and two viewer pages re-establish
 * their media by themselves — no reload — within seconds. First the worker hosting the room is
 * killed (another one runs), then every worker at once (the pages must retry until the
 * replacements are up). How long each took is printed as a JSON line:
 * {"mediaWorkerKilled":{"recoveredMs":{"streamer":…,"viewers":[…]}, …, "allWorkersKilled":{…}}}.
 *
 * Needs the page bundles: `npm run build:sdk && npm run build:web`.
 */

/** Two workers, so the room lives on one and the other must be left alone. */
const WORKERS = 2;
/** Everyone must be receiving again within this long after the kill. */
const RECOVERY_BUDGET_MS = 15_000;

interface VideoStats {
  producerId: string;
  source: string;
  framesDecoded: number;
  frameWidth?: number;
  frameHeight?: number;
}
interface OutboundStats {
  rid?: string;
  framesEncoded: number;
  bytesSent: number;
}

let dir: string;
let database: TestDatabase;
let server: ServerProcess;
let api: Api;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lectern-media-fault-'));
  database = await createTestDatabase();
  server = await spawnServer({
    DATABASE_URL: database.url,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    MIGRATE_ON_START: 'false',
    DATA_DIR: path.join(dir, 'data'),
    RECOMMENDER_ENABLED: 'false',
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    MEDIA_ENABLED: 'true',
    MEDIA_WORKERS: String(WORKERS),
    // WebRtcServer ports chosen by the OS (kept for each slot's replacement); pipes and RTP
    // ingest in a range no other test uses.
    MEDIA_PORT: '0',
    MEDIA_RTC_MIN_PORT: '47000',
    MEDIA_RTC_MAX_PORT: '47100',
  });
  api = new Api(server.url);
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  closeAllSockets();
  await browser?.close();
  await server?.stop();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- the server process, from outside -----------------------------------------------------------

/** `name{labels} value` lines of /metrics, for one metric name. */
async function metric(name: string): Promise<Map<string, number>> {
  const res = await api.get('/metrics');
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const values = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    const match = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name) values.set(match[2] ?? '', Number(match[3]));
  }
  return values;
}

/** Each slot's current worker pid, from the server's "media worker ready" log lines (the latest wins). */
function workerPidsFromLog(): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of server.output().split('\n')) {
    if (!line.includes('"msg":"media worker ready"')) continue;
    const entry = JSON.parse(line) as { worker: number; pid: number };
    pids.set(entry.worker, entry.pid);
  }
  return pids;
}

/** The live mediasoup-worker processes that are children of the server process. */
function workerChildren(): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(server.child.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are no children
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && comm?.startsWith('mediasoup-worke')) // comm is cut to 15 characters
    .map(([pid]) => Number(pid))
    .sort((a, b) => a - b);
}

const serverTail = () => `\nserver said (tail):\n${server.output().split('\n').slice(-30).join('\n')}`;

// ---- the pages ------------------------------------------------------------------------------------

const cameraStats = async (page: Page): Promise<VideoStats | undefined> => {
  const all = (await page.evaluate(() => (globalThis as any).__lectern?.stats?.() ?? [])) as VideoStats[];
  return all.find((s) => s.source === 'camera');
};
const outbound = (page: Page): Promise<OutboundStats[]> =>
  page.evaluate(() => (globalThis as any).__lectern?.outboundStats?.() ?? []);
const publicationState = (page: Page): Promise<string> =>
  page.evaluate(() => (globalThis as any).__lectern?.publication?.() ?? 'none');
const framesEncoded = (layers: OutboundStats[]) => layers.reduce((sum, l) => sum + l.framesEncoded, 0);

/**
 * Waits until the viewer decodes the camera from a producer other than `notFrom` and its
 * frame count has gone up between two samples; resolves with when that was first seen, then
 * makes sure it keeps going (10 more frames, with a resolution).
 */
async function waitForFrames(
  open: OpenPage,
  who: string,
  notFrom?: string,
): Promise<{ producerId: string; advancingAt: number; framesDecoded: number }> {
  let last: VideoStats | undefined;
  let first: VideoStats | undefined;
  try {
    const advancingAt = await until(
      async () => {
        last = await cameraStats(open.page);
        if (!last || last.producerId === notFrom || last.framesDecoded === 0) return undefined;
        if (first?.producerId !== last.producerId) first = last;
        return last.framesDecoded > first.framesDecoded ? Date.now() : undefined;
      },
      `${who}: camera frames advancing`,
      RECOVERY_BUDGET_MS + 5_000,
      100,
    );
    const start = last!;
    const after = await until(
      async () => {
        last = await cameraStats(open.page);
        const more = last?.producerId === start.producerId && last.framesDecoded >= start.framesDecoded + 10;
        return more && last!.frameWidth && last!.frameHeight ? last : undefined;
      },
      `${who}: decoding keeps going`,
      10_000,
    );
    return { producerId: after!.producerId, advancingAt, framesDecoded: after!.framesDecoded };
  } catch (err) {
    const media = await open.page
      .evaluate(() => {
        const state = (globalThis as any).__lectern?.state?.();
        return { media: state?.media, tracks: state?.tracks, history: (globalThis as any).__lectern?.mediaHistory };
      })
      .catch((e: Error) => e.message);
    throw new Error(
      `${(err as Error).message} (last stats: ${JSON.stringify(last) ?? 'none'}; page media: ${JSON.stringify(media)}; page said: ${open.errors.slice(-10).join(' | ')})${serverTail()}`,
    );
  }
}

/**
 * Waits until the studio's publication is connected and the camera's frames-encoded count,
 * summed over the simulcast layers, has gone up between two samples.
 */
async function waitForSending(studio: OpenPage, what: string): Promise<number> {
  let previous: number | undefined;
  let lastState = '';
  return until(
    async () => {
      lastState = await publicationState(studio.page);
      const frames = framesEncoded(await outbound(studio.page));
      const advancing = lastState === 'connected' && previous !== undefined && frames > previous;
      previous = lastState === 'connected' && frames > 0 ? frames : undefined;
      return advancing ? Date.now() : undefined;
    },
    what,
    RECOVERY_BUDGET_MS + 5_000,
    100,
  ).catch((err) => {
    throw new Error(
      `${(err as Error).message} (publication: ${lastState}; page said: ${studio.errors.slice(-10).join(' | ')})${serverTail()}`,
    );
  });
}

/** Server events the observer hears in the room, with when they arrived. */
interface Heard {
  event: string;
  at: number;
  payload: any;
}

interface Recovery {
  /** Kill to the streamer's new camera producer on the server and its page encoding onto it. */
  streamerMs: number;
  /** Kill to each viewer decoding frames of that new producer, advancing. */
  viewersMs: number[];
  /** Kill to the last killed slot's replacement being ready. */
  workersReplacedMs: number;
  /** Kill to the observer hearing `media:reset`. */
  resetHeardMs: number;
  /** Kill to the server announcing the new camera producer. */
  streamerProducerMs: number;
  killed: { index: number; pid: number; replacementPid: number }[];
  /** The worker the room's media is on afterwards. */
  roomNowOn: number;
  cameraProducerId: string;
}

it('a mediasoup worker SIGKILLed: a replacement starts, the streamer and both viewers get media again without a reload', async () => {
  // ---- a creator live from the studio page, two viewers watching ----------------------------
  const creator = await api.register('creator');
  const room = await api.room(creator.token, { title: 'Worker crash drill', access: 'free', record: false });
  const studio = await openPage(browser, creator);
  await studio.page.goto(`${server.url}/studio?room=${room.id}`);
  await until(
    () => studio.page.evaluate(() => (globalThis as any).document.getElementById('preview')?.videoWidth > 0),
    'studio: camera preview',
  );
  await studio.page.locator('#go-live').click();
  await until(
    async () => (await studio.page.locator('#publish-status').textContent()) === 'Live',
    'studio: live',
  ).catch((err) => {
    throw new Error(`${String(err)} (page said: ${studio.errors.join(' | ')})${serverTail()}`);
  });
  await waitForSending(studio, 'studio: sending before the kill');

  // A plain socket in the room hears what the server tells every member: the reset, new producers.
  const observerAccount: Account = await api.register('viewer');
  const observer: ClientSocket = await connect(server.url, observerAccount.token);
  await ok(observer, 'room:join', { roomId: room.id });
  const heard: Heard[] = [];
  for (const event of ['media:reset', 'media:producer:new'] as const) {
    observer.on(event as never, ((payload: any) => heard.push({ event, at: Date.now(), payload })) as never);
  }

  const viewers = await Promise.all(
    [1, 2].map(async () => {
      const open = await openPage(browser, await api.register('viewer'));
      await open.page.goto(`${server.url}/watch/${room.id}`);
      return open;
    }),
  );
  const watching = await Promise.all(viewers.map((open, i) => waitForFrames(open, `viewer ${i + 1} before the kill`)));
  expect(watching[1].producerId).toBe(watching[0].producerId);
  // The pages are marked: a reload would lose the mark.
  for (const open of [studio, ...viewers]) await open.page.evaluate(() => ((globalThis as any).__faultMark = 1));

  /** The one worker carrying routers (there is one room): from /metrics. */
  const hostingWorker = async (): Promise<number> => {
    const routers = await metric('lectern_media_routers');
    const hosting = [...routers].filter(([, n]) => n > 0).map(([labels]) => Number(/worker="(\d+)"/.exec(labels)![1]));
    expect(hosting).toHaveLength(1);
    return hosting[0];
  };

  /**
   * SIGKILLs the workers of these slots, then waits for their replacements, the streamer's new
   * camera producer (announced by the server, encoded by the studio page) and both viewers
   * decoding it, and checks that every page is the one it was (no reload).
   */
  const killAndRecover = async (indexes: number[], cameraBefore: string): Promise<Recovery> => {
    const pidsBefore = workerPidsFromLog();
    expect(pidsBefore.size).toBe(WORKERS);
    // What the log says runs is what runs: the server's mediasoup-worker children.
    expect(workerChildren()).toEqual([...pidsBefore.values()].sort((a, b) => a - b));
    const victims = indexes.map((index) => ({ index, pid: pidsBefore.get(index)! }));

    const heardBefore = heard.length;
    const killedAt = Date.now();
    for (const { pid } of victims) process.kill(pid, 'SIGKILL');

    const replacements = Promise.all(
      victims.map(({ index, pid: victim }) =>
        until(
          async () => {
            const pid = workerPidsFromLog().get(index);
            return pid !== undefined && pid !== victim
              ? { index, pid: victim, replacementPid: pid, at: Date.now() }
              : undefined;
          },
          `a replacement for worker ${index}`,
          RECOVERY_BUDGET_MS,
          50,
        ),
      ),
    );
    const streamer = (async () => {
      // The server has the streamer's camera again…
      const announced = await until(
        async () =>
          heard
            .slice(heardBefore)
            .find(
              (h) => h.event === 'media:producer:new' && h.payload.source === 'camera' && h.payload.kind === 'video',
            ),
        'the studio publishing its camera again (media:producer:new)',
        RECOVERY_BUDGET_MS + 5_000,
        50,
      ).catch(async (err) => {
        const media = await studio.page
          .evaluate(() => ({
            state: (globalThis as any).__lectern?.publication?.(),
            history: (globalThis as any).__lectern?.mediaHistory,
          }))
          .catch((e: Error) => e.message);
        throw new Error(
          `${(err as Error).message} (page media: ${JSON.stringify(media)}; page said: ${studio.errors.slice(-10).join(' | ')})${serverTail()}`,
        );
      });
      // …and the page is connected and encoding frames onto the new producer.
      const sendingAt = await waitForSending(studio, 'studio: sending again after the kill');
      return { producerId: announced.payload.producerId as string, announcedAt: announced.at, sendingAt };
    })();
    const resumed = Promise.all(
      viewers.map((open, i) => waitForFrames(open, `viewer ${i + 1} after the kill`, cameraBefore)),
    );
    const [replaced, published, frames] = await Promise.all([replacements, streamer, resumed]);

    // The server stayed up, told the room, and replaced exactly the killed workers.
    expect(server.child.exitCode).toBeNull();
    const reset = heard.slice(heardBefore).find((h) => h.event === 'media:reset');
    expect(reset?.payload).toEqual({ roomId: room.id });
    const children = workerChildren();
    expect(children).toHaveLength(WORKERS);
    for (const { pid, replacementPid } of replaced) {
      expect(children).not.toContain(pid);
      expect(children).toContain(replacementPid);
    }
    for (const [index, pid] of pidsBefore) if (!indexes.includes(index)) expect(children).toContain(pid);

    // The pages re-established by themselves: the viewers decode the streamer's new producer.
    expect(published.producerId).not.toBe(cameraBefore);
    for (const f of frames) expect(f.producerId).toBe(published.producerId);
    for (const open of [studio, ...viewers]) {
      expect(await open.page.evaluate(() => (globalThis as any).__faultMark)).toBe(1);
    }
    expect(await studio.page.locator('#publish-status').textContent()).toBe('Live');

    return {
      streamerMs: Math.max(published.announcedAt, published.sendingAt) - killedAt,
      viewersMs: frames.map((f) => f.advancingAt - killedAt),
      workersReplacedMs: Math.max(...replaced.map((r) => r.at)) - killedAt,
      resetHeardMs: reset!.at - killedAt,
      streamerProducerMs: published.announcedAt - killedAt,
      killed: replaced.map(({ index, pid, replacementPid }) => ({ index, pid, replacementPid })),
      roomNowOn: await hostingWorker(),
      cameraProducerId: published.producerId,
    };
  };

  const counter = async (name: string) => [...(await metric(name)).values()];

  // ---- round 1: the worker hosting the room ---------------------------------------------------
  // Another worker is running, so the room can move to it even before the replacement is up.
  const hosting = await hostingWorker();
  const first = await killAndRecover([hosting], watching[0].producerId);
  expect(await counter('lectern_media_worker_deaths_total')).toEqual([1]);
  expect(await counter('lectern_media_room_resets_total')).toEqual([1]);
  expect(await counter('lectern_media_workers')).toEqual([WORKERS]);

  // ---- round 2: every worker at once ------------------------------------------------------------
  // No worker is left: the pages' first attempts are refused (UNAVAILABLE) and retried with
  // back-off until the replacements are up; the room comes back on a brand-new process.
  const second = await killAndRecover(
    Array.from({ length: WORKERS }, (_, i) => i),
    first.cameraProducerId,
  );
  expect(await counter('lectern_media_worker_deaths_total')).toEqual([1 + WORKERS]);
  expect(await counter('lectern_media_room_resets_total')).toEqual([2]);
  expect(await counter('lectern_media_workers')).toEqual([WORKERS]);
  expect(await counter('lectern_media_available')).toEqual([1]);

  const figures = (r: Recovery) => ({
    recoveredMs: { streamer: r.streamerMs, viewers: r.viewersMs },
    workersReplacedMs: r.workersReplacedMs,
    resetHeardMs: r.resetHeardMs,
    streamerProducerMs: r.streamerProducerMs,
    killed: r.killed,
    roomNowOn: r.roomNowOn,
  });
  console.log(JSON.stringify({ mediaWorkerKilled: { ...figures(first), allWorkersKilled: figures(second) } }));
  for (const r of [first, second]) {
    expect(r.streamerMs).toBeLessThan(RECOVERY_BUDGET_MS);
    for (const ms of r.viewersMs) expect(ms).toBeLessThan(RECOVERY_BUDGET_MS);
  }
});
