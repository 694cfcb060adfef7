import { Registry } from 'prom-client';
import type * as MediaModule from './index';
import { codeOf, testLog, testOptions } from './test-support';

/**
 * mediasoup 3.19 reads MEDIASOUP_WORKER_BIN once, when it is first loaded (there is no per-worker
 * setting), so each case loads the media module, and mediasoup with it, afresh.
 */
function loadWithWorkerBin(bin: string): typeof MediaModule {
  const saved = process.env.MEDIASOUP_WORKER_BIN;
  process.env.MEDIASOUP_WORKER_BIN = bin;
  try {
    let media: typeof MediaModule | undefined;
    jest.isolateModules(() => {
      media = require('./index');
    });
    return media!;
  } finally {
    if (saved === undefined) delete process.env.MEDIASOUP_WORKER_BIN;
    else process.env.MEDIASOUP_WORKER_BIN = saved;
  }
}

async function expectUnavailable(plane: MediaModule.MediaPlane) {
  expect(await codeOf(() => plane.openRoom('r'))).toBe('UNAVAILABLE');
  expect(await codeOf(() => plane.joinPeer({ roomId: 'r', peerId: 'p', canProduce: true }))).toBe('UNAVAILABLE');
  expect(await codeOf(() => plane.listProducers('r'))).toBe('UNAVAILABLE');
  expect(await codeOf(() => plane.createWebRtcTransport({ roomId: 'r', peerId: 'p', direction: 'recv' }))).toBe(
    'UNAVAILABLE',
  );
  // Cleanup calls stay quiet: the gateway makes them on every disconnect.
  plane.closePeer({ roomId: 'r', peerId: 'p' });
  plane.closeRoom('r');
  expect(await plane.stats()).toMatchObject({ available: false, workers: 0, routers: 0 });
}

describe('a media plane without a runnable worker', () => {
  it('starts unavailable, with the reason, when the binary does not exist', async () => {
    const media = loadWithWorkerBin('/nonexistent/mediasoup-worker');
    const registry = new Registry();
    const plane = await media.createMediaPlane(testOptions(), { log: testLog(), registry });
    try {
      expect(plane.status()).toMatchObject({
        available: false,
        workersReady: 0,
        workerBin: '/nonexistent/mediasoup-worker',
      });
      expect(plane.status().reason).toMatch(/not found or not executable at \/nonexistent\/mediasoup-worker/);
      await expectUnavailable(plane);
      expect(await registry.getSingleMetricAsString('lectern_media_available')).toContain('lectern_media_available 0');
    } finally {
      await plane.close();
      await plane.close();
    }
  });

  it('starts unavailable when the worker process fails to start, and keeps retrying until closed', async () => {
    // Runs, but is not a mediasoup worker: it exits at once with status 1.
    const media = loadWithWorkerBin('/bin/false');
    const plane = await media.createMediaPlane(testOptions({ numWorkers: 1, workerRestartDelayMs: 60_000 }), {
      log: testLog(),
    });
    try {
      const status = plane.status();
      expect(status).toMatchObject({ available: false, workersReady: 0, workersConfigured: 1 });
      expect(status.reason).toMatch(/no media worker is running: mediasoup-worker failed to start: .*code:1/);
      await expectUnavailable(plane);
    } finally {
      await plane.close();
    }
  });
});
