import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { TEST_REDIS_URL } from '../../tests/helpers/env';
import { clusterAdapter } from './cluster-adapter';

/** Nodes on one Redis: those under the same key prefix hear each other, others do not. */
const started: { io: Server; http: HttpServer; redis: Redis }[] = [];

function node(prefix: string): Server {
  const redis = new Redis(TEST_REDIS_URL);
  const http = createServer();
  const io = new Server(http, { adapter: clusterAdapter(redis, prefix) });
  started.push({ io, http, redis });
  return io;
}

afterAll(async () => {
  for (const { io, redis } of started) {
    await io.close();
    redis.disconnect();
  }
});

it('a node-to-node notice reaches the nodes of its own prefix only', async () => {
  const [ours, theirs] = [
    `lectern-test-${randomBytes(4).toString('hex')}:`,
    `lectern-test-${randomBytes(4).toString('hex')}:`,
  ];
  const sender = node(ours);
  const sameDeployment = node(ours);
  const otherDeployment = node(theirs);
  const heard: string[] = [];
  sameDeployment.on('room:closed', ({ roomId }: { roomId: string }) => heard.push(`same:${roomId}`));
  otherDeployment.on('room:closed', ({ roomId }: { roomId: string }) => heard.push(`other:${roomId}`));
  // The adapters subscribe asynchronously: wait until the sender's channel has its listener.
  const probe = new Redis(TEST_REDIS_URL);
  try {
    for (let i = 0; i < 100; i++) {
      const counts = (await probe.pubsub('NUMSUB', `${ours}socket.io#/#`, `${theirs}socket.io#/#`)) as (
        | string
        | number
      )[];
      if (Number(counts[1]) === 2 && Number(counts[3]) === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    probe.disconnect();
  }
  (sender.serverSideEmit as (ev: string, ...args: unknown[]) => boolean)('room:closed', { roomId: 'r1' });
  for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  expect(heard).toEqual(['same:r1']);
});
