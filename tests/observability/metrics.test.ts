import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok, refused } from '../helpers/socket';

/**
 * `/metrics` covers what operators watch (docs/observability.md), and the Grafana dashboard in
 * ops/grafana charts only metrics that exist: a renamed metric fails here, not on a blank panel.
 */

interface Scrape {
  /** Family name → type, from the `# TYPE` lines. */
  families: Map<string, string>;
  /** Every sample line: series name, labels as written, value. */
  samples: { name: string; labels: string; value: number }[];
}

function parse(text: string): Scrape {
  const families = new Map<string, string>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1], type[2]);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (sample) samples.push({ name: sample[1], labels: sample[2] ?? '', value: Number(sample[3]) });
  }
  return { families, samples };
}

/** The value of the sample of `name` whose labels include every one of `labels` (0 when none). */
function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const found = scrape.samples.filter((s) => s.name === name && wanted.every((w) => s.labels.includes(w)));
  return found.reduce((sum, s) => sum + s.value, 0);
}

/** Series names a PromQL expression may use: each family, and a histogram's `_bucket`, `_sum`, `_count`. */
function seriesNames(scrape: Scrape): Set<string> {
  const names = new Set<string>();
  for (const [family, type] of scrape.families) {
    names.add(family);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(family + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(family + s);
  }
  return names;
}

/** The families operators need, by what they answer. */
const REQUIRED: Record<string, string[]> = {
  http: ['lectern_http_requests_total', 'lectern_http_request_duration_seconds'],
  connections: ['lectern_socket_connections'],
  rooms: ['lectern_rooms_active'],
  'client events by type': ['lectern_socket_events_total'],
  'ack latency per event': ['lectern_socket_ack_duration_seconds'],
  'errors by code': ['lectern_errors_total'],
  'event-log lag': ['lectern_events_group_lag', 'lectern_events_group_pending', 'lectern_events_dead_letters'],
  'recommender version and loss': [
    'lectern_recommender_model_info',
    'lectern_recommender_model_age_seconds',
    'lectern_recommender_training_loss',
    'lectern_recommender_validation_log_loss',
    'lectern_recommender_versions_total',
  ],
  'mediasoup workers and consumers': ['lectern_media_workers', 'lectern_media_consumers', 'lectern_media_available'],
  recordings: [
    'lectern_recordings_active',
    'lectern_recorder_available',
    'lectern_recording_parts_started_total',
    'lectern_recording_parts_ended_total',
    'lectern_recorder_failures_total',
  ],
  'money operations': ['lectern_money_operations_total'],
  payouts: [
    'lectern_payouts_requested_total',
    'lectern_payouts_settled_total',
    'lectern_payouts_in_flight',
    'lectern_payouts_oldest_in_flight_seconds',
  ],
};

let s: TestServer;
beforeAll(async () => {
  // The recommender is off in other tests; its metrics exist only where it runs.
  s = await startTestServer({ RECOMMENDER_ENABLED: 'true', RECOMMENDER_TRAINER_THREAD: 'inline' });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

async function scrape(): Promise<Scrape> {
  const res = await s.api.get('/metrics');
  expect(res.status).toBe(200);
  return parse(res.body as string);
}

describe('/metrics', () => {
  it('has every required family, counts errors by code and times acks per event', async () => {
    const before = await scrape();

    // A little traffic: HTTP (one refused), a socket event that succeeds and one that is refused.
    const creator = await s.api.register('creator');
    const room = await s.api.room(creator.token);
    expect((await s.api.get('/api/rooms/not-a-uuid')).status).toBe(400);
    const viewer = await s.api.register();
    const socket = await connect(s.url, viewer.token);
    await ok(socket, 'room:join', { roomId: room.id });
    expect(await refused(socket, 'chat:send', { roomId: '00000000-0000-4000-8000-000000000000', text: 'hi' })).toBe(
      'FORBIDDEN',
    );

    const after = await scrape();
    const missing = Object.entries(REQUIRED).flatMap(([what, names]) =>
      names.filter((n) => !after.families.has(n)).map((n) => `${n} (${what})`),
    );
    expect(missing).toEqual([]);

    expect(value(after, 'lectern_socket_connections')).toBe(1);
    expect(value(after, 'lectern_rooms_active')).toBe(1);
    expect(value(after, 'lectern_socket_events_total', { event: 'room:join', outcome: 'ok' })).toBe(1);
    const acks = (scrape: Scrape) => value(scrape, 'lectern_socket_ack_duration_seconds_count', { event: 'room:join' });
    expect(acks(after)).toBe(acks(before) + 1);
    expect(value(after, 'lectern_socket_ack_duration_seconds_sum', { event: 'room:join' })).toBeGreaterThan(0);
    expect(value(after, 'lectern_errors_total', { transport: 'http', code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(value(after, 'lectern_errors_total', { transport: 'socket', code: 'FORBIDDEN' })).toBe(1);
    expect(value(after, 'lectern_http_requests_total', { route: '/api/rooms', status: '201' })).toBe(1);
    // Read at scrape time: the recommender's serving version, the payouts in flight in Postgres.
    expect(value(after, 'lectern_recommender_model_info')).toBe(1);
    expect(after.samples.some((x) => x.name === 'lectern_payouts_in_flight' && x.value === 0)).toBe(true);
    expect(value(after, 'lectern_media_workers')).toBe(0); // MEDIA_ENABLED=false in tests
  });

  it('counts money operations by kind and answer: ok, replayed, refused', async () => {
    const before = await scrape();
    const viewer = await s.api.register();
    const key = 'metrics-topup-1';
    const topUp = (amount: number, k: string) => s.api.post('/api/wallet/topup', { amount }, viewer.token, k);
    expect((await topUp(500, key)).status).toBe(200);
    expect((await topUp(500, key)).status).toBe(200); // the retry: the first answer again
    const creator = await s.api.register('creator');
    const room = await s.api.room(creator.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const socket = await connect(s.url, viewer.token);
    await ok(socket, 'room:join', { roomId: room.id });
    expect(
      await refused(socket, 'tip:send', { roomId: room.id, amount: 10_000, idempotencyKey: 'metrics-tip-1' }),
    ).toBe('INSUFFICIENT_FUNDS');

    const after = await scrape();
    const delta = (labels: Record<string, string>) =>
      value(after, 'lectern_money_operations_total', labels) - value(before, 'lectern_money_operations_total', labels);
    expect(delta({ kind: 'topup', result: 'ok' })).toBe(1);
    expect(delta({ kind: 'topup', result: 'replayed' })).toBe(1);
    expect(delta({ kind: 'tip', result: 'INSUFFICIENT_FUNDS' })).toBe(1);
  });

  it('has every metric the Grafana dashboard charts', async () => {
    const dashboard = JSON.parse(readFileSync(path.join(__dirname, '../../ops/grafana/lectern.json'), 'utf8'));
    const exprs: string[] = [];
    const walk = (panels: { targets?: { expr?: string }[]; panels?: unknown[] }[]) => {
      for (const panel of panels) {
        for (const t of panel.targets ?? []) if (t.expr) exprs.push(t.expr);
        walk((panel.panels ?? []) as typeof panels);
      }
    };
    walk(dashboard.panels);
    expect(exprs.length).toBeGreaterThan(20);

    const known = seriesNames(await scrape());
    const used = new Set(exprs.flatMap((e) => e.match(/\blectern_[a-zA-Z0-9_]+/g) ?? []));
    expect([...used].filter((name) => !known.has(name))).toEqual([]);
    // And the dashboard charts every required family.
    const charted = Object.values(REQUIRED)
      .flat()
      .filter((name) => !['', '_bucket', '_count', '_sum'].some((suffix) => used.has(name + suffix)));
    expect(charted).toEqual([]);
  });
});
