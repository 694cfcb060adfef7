/**
 * The closed loop under a simulated audience: the real server in process (its own databases on
 * the test Postgres), real Socket.IO clients (the SDK), the real event log, trainer and policy.
 *
 *   npm run recsys:simulate [-- --seconds 60 --viewers 120 --creators 16 --seed 42
 *                              --policies model,popularity,random]
 *
 * A world of topics, creators of very different sizes (Zipf) with contents of different prices
 * and qualities, and viewers with latent interests (a main and maybe a second topic) and price
 * sensitivities, is built once into a template database, with a couple of purchases per viewer
 * as history. Each policy then runs on its own copy of that database for the same time: viewers
 * wander between live rooms, like what they care about, and react to each suggestion — click,
 * buy (over the socket, through the real ledger), dismiss or ignore — by the planted model below.
 *
 * Progress goes to stderr. Stdout gets a table and, as its last line,
 * `{"model":{"revenue","conversion","exposureGini"},"popularity":{…},"random":{…}}`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import type { AckResponse, ClientToServerEvents, ServerToClientEvents, SuggestionItem } from '../protocol';
import { type Lectern, startLectern } from '../server/app';
import { loadConfig } from '../server/config';
import type { ValidationReport } from '../server/recommender';
import { Random } from '../server/recommender/model/random';
import { adminQuery, createMigratedDatabase, databaseUrl, json, request } from './bench/harness';

const JWT_SECRET = 'simulate-secret-simulate-secret-simulate-0';
const PASSWORD = 'simulated-password';

type Policy = 'model' | 'popularity' | 'random';

interface Options {
  seconds: number;
  viewers: number;
  creators: number;
  topics: number;
  seed: number;
  policies: Policy[];
}

// --- the world ----------------------------------------------------------------------------------

interface SimCreator {
  index: number;
  /** Zipf weight: audience and visibility. */
  size: number;
  topic: number;
  /** Minor units, or null when they sell no subscription. */
  subscriptionPrice: number | null;
  quality: number;
}

interface SimContent {
  index: number;
  creator: number;
  topic: number;
  tags: string[];
  price: number;
  kind: 'lesson' | 'course' | 'bundle';
  quality: number;
}

interface SimViewer {
  index: number;
  main: number;
  /** A second topic of interest, or -1. */
  second: number;
  /** How much price puts them off: utility − γ·ln(price / 1000). */
  priceSensitivity: number;
  rng: Random;
}

interface World {
  topicTags: string[][];
  creators: SimCreator[];
  contents: SimContent[];
  viewers: SimViewer[];
  /** Warm-up purchases (viewer, content): the history every policy starts from. */
  history: [number, number][];
}

const TOPIC_NAMES = [
  'python',
  'jazz',
  'finance',
  'cooking',
  'medicine',
  'chess',
  'drawing',
  'physics',
  'spanish',
  'yoga',
];
const TAG_SUFFIXES = ['basics', 'advanced', 'practice'];

function buildWorld(o: Options): World {
  const rng = new Random(o.seed);
  const topicTags = Array.from({ length: o.topics }, (_, t) => {
    const name = TOPIC_NAMES[t % TOPIC_NAMES.length] + (t >= TOPIC_NAMES.length ? `${t}` : '');
    return [name, ...TAG_SUFFIXES.map((s) => `${name}-${s}`)];
  });
  // Topics are unequally popular; the biggest creators sit on the most popular topics.
  const topicWeight = Array.from({ length: o.topics }, (_, t) => 1 / (t + 1) ** 0.6);
  const creators: SimCreator[] = Array.from({ length: o.creators }, (_, c) => {
    const size = 1 / (c + 1);
    return {
      index: c,
      size,
      topic: c % o.topics,
      subscriptionPrice: c < o.creators / 2 ? 1500 + 500 * rng.int(4) : null,
      quality: 0.4 * size + 0.2 * rng.normal(),
    };
  });
  const contents: SimContent[] = [];
  for (const creator of creators) {
    const n = 3 + Math.round(9 * creator.size);
    for (let i = 0; i < n; i++) {
      const topic = rng.next() < 0.8 ? creator.topic : rng.int(o.topics);
      const tags = topicTags[topic];
      const price = Math.round(Math.exp(Math.log(300) + rng.next() * (Math.log(6000) - Math.log(300))) / 10) * 10;
      contents.push({
        index: contents.length,
        creator: creator.index,
        topic,
        tags: [tags[0], tags[1 + rng.int(3)]],
        price,
        kind: price < 1000 ? 'lesson' : price < 3000 ? 'course' : 'bundle',
        quality: creator.quality + 0.5 * rng.normal(),
      });
    }
  }
  const pick = (weights: number[]) => pickWeighted(rng, weights);
  const viewers: SimViewer[] = Array.from({ length: o.viewers }, (_, v) => {
    const main = pick(topicWeight);
    let second = rng.next() < 0.5 ? pick(topicWeight) : -1;
    if (second === main) second = -1;
    return { index: v, main, second, priceSensitivity: 0.2 + 1.2 * rng.next(), rng: rng.fork() };
  });
  // Two or three earlier purchases each, mostly of the main topic, visible creators' more often.
  const history: [number, number][] = [];
  for (const v of viewers) {
    const owned = new Set<number>();
    const n = 2 + rng.int(2);
    for (let k = 0; k < n; k++) {
      const topic = v.second >= 0 && rng.next() < 0.25 ? v.second : v.main;
      const options = contents.filter((c) => c.topic === topic && !owned.has(c.index));
      if (options.length === 0) continue;
      // Past purchases follow the same tastes as future ones (price sensitivity included), so
      // what a viewer has spent says something about what they will pay.
      const i = pick(
        options.map(
          (c) => Math.exp(c.quality - v.priceSensitivity * Math.log(c.price / 1000)) * creators[c.creator].size ** 0.5,
        ),
      );
      owned.add(options[i].index);
      history.push([v.index, options[i].index]);
    }
  }
  return { topicTags, creators, contents, viewers, history };
}

// --- how a simulated viewer behaves ------------------------------------------------------------

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function affinity(v: SimViewer, topic: number): number {
  return topic === v.main ? 1 : topic === v.second ? 0.5 : 0;
}

/** Purchase log-odds of a content (or a creator's subscription) for a viewer who has seen it `seen` times. */
function utility(
  v: SimViewer,
  item: { content?: SimContent; creator: SimCreator; price: number },
  seen: number,
): number {
  const topic = item.content ? item.content.topic : item.creator.topic;
  const quality = item.content ? item.content.quality : item.creator.quality - 0.4;
  return -4.6 + 3.2 * affinity(v, topic) + quality - v.priceSensitivity * Math.log(item.price / 1000) - 0.8 * seen;
}

// --- plumbing -----------------------------------------------------------------------------------

/** A viewer's Socket.IO connection, spoken to as any outside client would (docs/protocol.md). */
class ViewerSocket {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;

  constructor(url: string, token: string) {
    this.socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
    });
  }

  async request<E extends keyof ClientToServerEvents>(event: E, payload: Parameters<ClientToServerEvents[E]>[0]) {
    // The typed emitWithAck overloads do not narrow through a generic event name.
    const res = (await (this.socket.timeout(10_000) as any).emitWithAck(event, payload)) as AckResponse<unknown>;
    if (!res.ok) throw new Error(`${event}: ${res.error.code} ${res.error.message}`);
    return res.data;
  }

  close(): void {
    this.socket.close();
  }
}

/** Index drawn with probability proportional to its weight. */
function pickWeighted(rng: Random, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let x = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`${message}\n`);

function serverConfig(database: string, env: Record<string, string>) {
  return loadConfig({
    DATABASE_URL: databaseUrl(database),
    JWT_SECRET,
    PORT: '0',
    LOG_LEVEL: process.env.SIMULATE_LOG_LEVEL ?? 'error',
    MIGRATE_ON_START: 'false',
    MEDIA_ENABLED: 'false',
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    MAX_CONNECTIONS_PER_IP: '100000',
    SOCKET_EVENTS_PER_SECOND: '1000',
    MAX_TOPUP_AMOUNT: '10000000',
    ...env,
  });
}

async function http<T>(url: string, method: string, body: unknown, token?: string, key?: string): Promise<T> {
  return json<T>(await request(method, url, body, token, key));
}

interface Accounts {
  creators: { id: string; token: string; roomId: string }[];
  contents: string[];
  viewers: { id: string; token: string }[];
}

/** Builds the world into a template database through the real API. */
async function setupTemplate(world: World, name: string): Promise<Accounts> {
  await createMigratedDatabase(name);
  const lectern = await startLectern(serverConfig(name, { RECOMMENDER_ENABLED: 'false', ANALYTICS_ENABLED: 'false' }));
  const api = lectern.url;
  const tag = randomBytes(3).toString('hex');
  try {
    const register = (role: string, i: number) =>
      http<{ token: string; user: { id: string } }>(`${api}/api/auth/register`, 'POST', {
        username: `sim_${tag}_${role[0]}${i}`,
        password: PASSWORD,
        role,
      });
    const accounts: Accounts = { creators: [], contents: [], viewers: [] };
    for (const c of world.creators) {
      const a = await register('creator', c.index);
      await http(
        `${api}/api/creators/me`,
        'PATCH',
        {
          displayName: `Creator ${c.index}`,
          tags: world.topicTags[c.topic].slice(0, 2),
          ...(c.subscriptionPrice ? { subscriptionPrice: c.subscriptionPrice, subscriptionPeriodDays: 30 } : {}),
        },
        a.token,
      );
      const { room } = await http<{ room: { id: string } }>(
        `${api}/api/rooms`,
        'POST',
        {
          title: `Live ${world.topicTags[c.topic][0]} with creator ${c.index}`,
          access: 'free',
          tags: world.topicTags[c.topic].slice(0, 2),
        },
        a.token,
      );
      await http(`${api}/api/rooms/${room.id}/start`, 'POST', {}, a.token);
      accounts.creators.push({ id: a.user.id, token: a.token, roomId: room.id });
    }
    for (const c of world.contents) {
      const { content } = await http<{ content: { id: string } }>(
        `${api}/api/contents`,
        'POST',
        {
          title: `${c.kind} ${c.index} on ${c.tags.join(' & ')}`,
          kind: c.kind,
          price: c.price,
          tags: c.tags,
        },
        accounts.creators[c.creator].token,
      );
      accounts.contents.push(content.id);
    }
    for (let i = 0; i < world.viewers.length; i += 20) {
      const batch = await Promise.all(world.viewers.slice(i, i + 20).map((v) => register('viewer', v.index)));
      for (const a of batch) accounts.viewers.push({ id: a.user.id, token: a.token });
    }
    await Promise.all(
      accounts.viewers.map((v) =>
        http(`${api}/api/wallet/topup`, 'POST', { amount: 1_000_000 }, v.token, randomUUID()),
      ),
    );
    for (const [v, c] of world.history) {
      await http(
        `${api}/api/purchases`,
        'POST',
        { contentId: accounts.contents[c] },
        accounts.viewers[v].token,
        randomUUID(),
      );
    }
    return accounts;
  } finally {
    await lectern.close();
  }
}

// --- one policy ---------------------------------------------------------------------------------

interface PolicyResult {
  revenue: number;
  conversion: number;
  exposureGini: number;
  impressions: number;
  purchases: number;
  clicks: number;
  dismissals: number;
  suggestions: number;
  versions: {
    version: string;
    kind: string;
    promoted: boolean;
    heldOut: number;
    auc: number | null;
    logLoss: number | null;
  }[];
  /** Mean price of the items shown and of those bought. */
  prices: { shown: number; bought: number };
  /** Conversion per window of the run: how the loop converges. */
  curve: { from: number; impressions: number; purchases: number; revenue: number }[];
  modelVersions: { promoted: number; rejected: number; serving: string };
  exposureByCreator: number[];
}

function gini(values: number[]): number {
  const xs = [...values].sort((a, b) => a - b);
  const n = xs.length;
  const total = xs.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return 0;
  let weighted = 0;
  xs.forEach((x, i) => {
    weighted += (i + 1) * x;
  });
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

async function runPolicy(
  policy: Policy,
  template: string,
  world: World,
  accounts: Accounts,
  o: Options,
): Promise<PolicyResult> {
  const name = `lectern_sim_${policy}_${randomBytes(3).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const lectern: Lectern = await startLectern(
    serverConfig(name, {
      RECOMMENDER_POLICY: policy,
      RECOMMENDER_TICK_MS: '250',
      RECOMMENDER_PUSH_INTERVAL_SECONDS: '4',
      RECOMMENDER_JOIN_GRACE_SECONDS: '2',
      RECOMMENDER_DISMISS_COOLDOWN_SECONDS: '8',
      RECOMMENDER_REPEAT_COOLDOWN_SECONDS: '20',
      RECOMMENDER_LABEL_WINDOW_SECONDS: '8',
      RECOMMENDER_PUBLISH_INTERVAL_SECONDS: '5',
      RECOMMENDER_TRAIN_MAX_DELAY_MS: '500',
      RECOMMENDER_FAIRNESS_WINDOW_SECONDS: '120',
      RECOMMENDER_RETRAIN_INTERVAL_MINUTES: '0',
      RECOMMENDER_RETRAIN_MAX_SECONDS: '20',
      RECOMMENDER_VALIDATION_MIN_EXAMPLES: '100',
      ...(process.env.SIMULATE_ENV ? (JSON.parse(process.env.SIMULATE_ENV) as Record<string, string>) : {}),
    }),
  );
  const recommender = lectern.recommender;
  if (!recommender) throw new Error('the recommender is not enabled');
  const contentIndex = new Map(accounts.contents.map((id, i) => [id, i]));
  const creatorIndex = new Map(accounts.creators.map((c, i) => [c.id, i]));
  const clients: ViewerSocket[] = [];
  let clicks = 0;
  let dismissals = 0;
  const errors = new Map<string, number>();
  try {
    await recommender.ready();
    // Every run starts from the same place: the start-up retrain on the shared history.
    const warm = Date.now();
    while (!recommender.status().trainer?.lastRetrainAt && Date.now() - warm < 60_000) await sleep(200);
    log(`[${policy}] serving ${recommender.status().serving.version} after the start-up retrain`);

    const started = Date.now();
    const deadline = started + o.seconds * 1000;
    const seen = new Map<string, number>();
    /** Where each viewer is now: a suggestion that arrives as they leave is not reacted to. */
    const inRoom = new Map<number, string>();
    const running: Promise<void>[] = [];
    for (const v of world.viewers) {
      const client = new ViewerSocket(lectern.url, accounts.viewers[v.index].token);
      clients.push(client);
      await client.connect();
      client.socket.on('suggestion', (p) => {
        void react(v, client, p.roomId, p.items).catch((err: Error) => {
          const reason = err.message.replace(/[0-9a-f-]{36}/g, '…');
          errors.set(reason, (errors.get(reason) ?? 0) + 1);
        });
      });
      running.push(wander(v, client, deadline));
    }

    async function react(v: SimViewer, client: ViewerSocket, roomId: string, items: SuggestionItem[]) {
      await sleep(300 + v.rng.int(1200));
      for (const item of items) {
        if (Date.now() >= deadline || inRoom.get(v.index) !== roomId) return;
        const key = `${v.index}:${item.contentId}`;
        const times = seen.get(key) ?? 0;
        seen.set(key, times + 1);
        const content = contentIndex.has(item.contentId)
          ? world.contents[contentIndex.get(item.contentId)!]
          : undefined;
        const creator = world.creators[content ? content.creator : (creatorIndex.get(item.contentId) ?? 0)];
        const u = utility(v, { content, creator, price: item.price }, times);
        if (v.rng.next() < sigmoid(u + 2)) {
          clicks++;
          await client.request('suggestion:click', { roomId, contentId: item.contentId });
          // Bought with probability σ(u) overall: σ(u) / σ(u + 2) of those who click.
          if (v.rng.next() < sigmoid(u) / sigmoid(u + 2)) {
            if (item.kind === 'subscription') {
              await http(
                `${lectern.url}/api/subscriptions`,
                'POST',
                { creatorId: item.contentId },
                accounts.viewers[v.index].token,
                randomUUID(),
              );
            } else {
              await client.request('purchase:create', { contentId: item.contentId, idempotencyKey: randomUUID() });
            }
          }
        } else if (v.rng.next() < 0.25 * (1 - affinity(v, content ? content.topic : creator.topic))) {
          dismissals++;
          await client.request('suggestion:dismiss', { roomId, contentId: item.contentId });
          return; // one dismissal is enough
        }
      }
    }

    async function wander(v: SimViewer, client: ViewerSocket, until: number) {
      await sleep(v.rng.int(3000));
      while (Date.now() < until) {
        const c = pickWeighted(
          v.rng,
          world.creators.map((creator) => creator.size ** 0.8 * (0.15 + affinity(v, creator.topic))),
        );
        const roomId = accounts.creators[c].roomId;
        await client.request('room:join', { roomId });
        inRoom.set(v.index, roomId);
        const likes = Math.round(4 * affinity(v, world.creators[c].topic) * v.rng.next());
        if (likes > 0) await client.request('like:send', { roomId, count: likes });
        await sleep(Math.min(until - Date.now(), 20_000 + v.rng.int(25_000)));
        inRoom.delete(v.index);
        await client.request('room:leave', { roomId }).catch(() => undefined);
        await sleep(Math.min(Math.max(0, until - Date.now()), 1000 + v.rng.int(4000)));
      }
    }

    // Progress while it runs.
    const progress = setInterval(() => {
      const s = recommender.status();
      const t = s.trainer;
      log(
        `[${policy}] ${Math.round((Date.now() - started) / 1000)}s: ${s.pushes.items} items shown, ${clicks} clicks, ` +
          `serving ${s.serving.version}${t ? `, trained ${t.examplesTrained} (${t.labelled.positive}+/${t.labelled.negative}-), versions ${t.versions.promoted} promoted ${t.versions.rejected} rejected` : ''}`,
      );
    }, 10_000);
    await Promise.all(running);
    clearInterval(progress);
    await sleep(2500); // reactions in flight settle (nothing new counts after the deadline)
    for (const c of clients) c.close();

    const db = lectern.database.db;
    const since = new Date(started);
    const until = new Date(deadline);
    const impressions = await db
      .selectFrom('recommendation_impressions')
      .select(['creator_id', 'shown_at', 'context'])
      .where('shown_at', '>=', since)
      .where('shown_at', '<', until)
      .execute();
    const purchases = await db
      .selectFrom('purchases')
      .select(['amount', 'created_at'])
      .where('created_at', '>=', since)
      .where('kind', 'in', ['content', 'subscription'])
      .where('status', '=', 'completed')
      .execute();
    const exposure = new Map(accounts.creators.map((c) => [c.id, 0]));
    for (const r of impressions) exposure.set(r.creator_id ?? '', (exposure.get(r.creator_id ?? '') ?? 0) + 1);
    const exposureByCreator = accounts.creators.map((c) => exposure.get(c.id) ?? 0);
    const revenue = purchases.reduce((a, p) => a + p.amount, 0);
    const windowMs = Math.max(5000, Math.round((o.seconds * 1000) / 6));
    const curve: PolicyResult['curve'] = [];
    for (let from = 0; from < o.seconds * 1000; from += windowMs) {
      const inWindow = (at: Date) => at.getTime() - started >= from && at.getTime() - started < from + windowMs;
      const bought = purchases.filter((p) => inWindow(p.created_at));
      curve.push({
        from: from / 1000,
        impressions: impressions.filter((r) => inWindow(r.shown_at)).length,
        purchases: bought.length,
        revenue: bought.reduce((a, p) => a + p.amount, 0),
      });
    }
    const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
    const prices = {
      shown: mean(impressions.map((r) => (r.context as { candidate?: { price?: number } })?.candidate?.price ?? 0)),
      bought: mean(purchases.map((p) => p.amount)),
    };
    const status = recommender.status();
    // How the loop converged: each version offered and its held-out validation, oldest first.
    const versions = (await recommender.versions(1000)).reverse().map((v) => {
      const report = v.validation as Partial<ValidationReport>;
      return {
        version: v.version,
        kind: v.kind,
        promoted: v.status !== 'rejected',
        heldOut: report.examples ?? 0,
        auc:
          report.candidate?.auc === null || report.candidate?.auc === undefined
            ? null
            : Number(report.candidate.auc.toFixed(3)),
        logLoss: report.candidate && report.examples ? Number(report.candidate.logLoss.toFixed(4)) : null,
      };
    });
    for (const [reason, n] of errors) log(`[${policy}] ${n} simulated reactions failed: ${reason}`);
    return {
      revenue,
      conversion: impressions.length ? purchases.length / impressions.length : 0,
      exposureGini: gini(exposureByCreator),
      impressions: impressions.length,
      purchases: purchases.length,
      clicks,
      dismissals,
      suggestions: status.pushes.suggestions,
      curve,
      prices,
      versions,
      modelVersions: {
        promoted: status.trainer?.versions.promoted ?? 0,
        rejected: status.trainer?.versions.rejected ?? 0,
        serving: status.serving.version,
      },
      exposureByCreator,
    };
  } finally {
    for (const c of clients) c.close();
    await lectern.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

// --- main ---------------------------------------------------------------------------------------

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      viewers: { type: 'string' },
      creators: { type: 'string' },
      topics: { type: 'string' },
      seed: { type: 'string' },
      policies: { type: 'string' },
    },
    strict: true,
  });
  const num = (name: keyof typeof values, fallback: number, min: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
    return n;
  };
  const policies = (values.policies ?? 'model,popularity,random').split(',') as Policy[];
  for (const p of policies) {
    if (!['model', 'popularity', 'random'].includes(p)) throw new Error(`unknown policy "${p}"`);
  }
  return {
    seconds: num('seconds', 60, 10),
    viewers: num('viewers', 120, 2),
    creators: num('creators', 16, 2),
    topics: num('topics', 8, 1),
    seed: num('seed', 42, 0),
    policies,
  };
}

async function main(): Promise<void> {
  const o = parseOptions();
  const started = Date.now();
  const world = buildWorld(o);
  log(
    `world: ${o.topics} topics, ${world.creators.length} creators, ${world.contents.length} contents, ` +
      `${world.viewers.length} viewers, ${world.history.length} earlier purchases; ${o.seconds}s per policy`,
  );
  const template = `lectern_simtpl_${randomBytes(4).toString('hex')}`;
  const results: Partial<Record<Policy, PolicyResult>> = {};
  try {
    const accounts = await setupTemplate(world, template);
    log(`template ready in ${Math.round((Date.now() - started) / 1000)}s`);
    for (const policy of o.policies) {
      results[policy] = await runPolicy(policy, template, world, accounts, o);
      const r = results[policy]!;
      log(
        `[${policy}] revenue ${r.revenue}, conversion ${(100 * r.conversion).toFixed(2)}%, exposure Gini ${r.exposureGini.toFixed(3)} ` +
          `(${r.impressions} items shown, ${r.purchases} bought)`,
      );
    }
  } finally {
    await adminQuery(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  }

  const rows = o.policies.map((p) => {
    const r = results[p]!;
    return `| ${p} | ${r.revenue} | ${(100 * r.conversion).toFixed(2)}% | ${r.exposureGini.toFixed(3)} | ${r.impressions} | ${r.purchases} | ${r.clicks} | ${r.dismissals} |`;
  });
  process.stdout.write(
    [
      '| policy | revenue | conversion | exposure Gini | items shown | purchases | clicks | dismissals |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
  const details = Object.fromEntries(
    o.policies.map((p) => {
      const { curve, prices, modelVersions, exposureByCreator, suggestions, versions } = results[p]!;
      return [
        p,
        { suggestions, prices, curve, modelVersions, exposureByCreator, ...(p === 'model' ? { versions } : {}) },
      ];
    }),
  );
  process.stdout.write(
    `${JSON.stringify({ options: o, seconds: Math.round((Date.now() - started) / 1000), details })}\n`,
  );
  const summary = Object.fromEntries(
    o.policies.map((p) => {
      const r = results[p]!;
      return [
        p,
        {
          revenue: r.revenue,
          conversion: Number(r.conversion.toFixed(5)),
          exposureGini: Number(r.exposureGini.toFixed(4)),
        },
      ];
    }),
  );
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
