/** Money benchmarks: concurrent purchases through the ledger. */
import { randomUUID } from 'node:crypto';
import { type BenchServer, json, percentiles, post as postTo } from './harness';

export async function purchases(server: BenchServer, buyers = 50, perBuyer = 10) {
  const url = server.lectern.url;
  const post = (path: string, body: unknown, token?: string, key?: string) => postTo(`${url}${path}`, body, token, key);
  const register = async (role: string) =>
    json<{ token: string }>(
      await post('/api/auth/register', {
        username: `b_${randomUUID().slice(0, 12)}`,
        password: 'bench-password',
        role,
      }),
    );
  const creator = await register('creator');
  const contents: string[] = [];
  for (let i = 0; i < perBuyer; i++) {
    const { content } = await json<{ content: { id: string } }>(
      await post('/api/contents', { title: `c${i}`, kind: 'lesson', price: 100 }, creator.token),
    );
    contents.push(content.id);
  }
  const accounts = await Promise.all(Array.from({ length: buyers }, () => register('viewer')));
  await Promise.all(
    accounts.map(async (a) => json(await post('/api/wallet/topup', { amount: 100 * perBuyer }, a.token, randomUUID()))),
  );
  const latencies: number[] = [];
  const started = performance.now();
  let ok = 0;
  await Promise.all(
    accounts.map(async (a) => {
      for (const contentId of contents) {
        const t = performance.now();
        const res = await post('/api/purchases', { contentId }, a.token, randomUUID());
        latencies.push(performance.now() - t);
        if (res.status === 201) ok++;
        await res.arrayBuffer();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { buyers, purchases: ok, purchasesPerSecond: Math.round(ok / seconds), latencyMs: percentiles(latencies) };
}
