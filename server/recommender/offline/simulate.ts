import { Random } from '../model/random';

/**
 * A synthetic consumption log with the structure real ones have, for developing and testing the
 * recommender without private data: latent topic interests that drift, a heavy popularity skew,
 * creators of very different sizes, contents released over time whose popularity decays, series
 * that viewers follow in order, loyalty to creators, sessions, and repeats.
 */
export interface SimulationOptions {
  users: number;
  contents: number;
  creators: number;
  topics: number;
  /** Mean interactions per user; the distribution is heavy-tailed (log-normal). */
  meanInteractions: number;
  /** Chance that an event re-consumes something the user already had. */
  repeatRate: number;
  /** Chance of taking the next part of a series just finished, when there is one. */
  seriesRate: number;
  /** Chance of staying on the previous event's topic. */
  topicStickiness: number;
  /** Chance per event that the user's interests drift to a new topic. */
  driftRate: number;
  /** Length of the simulated period in days. */
  days: number;
  seed: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  users: 2000,
  contents: 1500,
  creators: 150,
  topics: 20,
  meanInteractions: 40,
  repeatRate: 0.1,
  seriesRate: 0.3,
  topicStickiness: 0.6,
  driftRate: 0.01,
  days: 730,
  seed: 7,
};

export interface SimulatedContent {
  id: string;
  creatorId: string;
  topic: number;
  tags: string[];
  kind: 'lesson' | 'course' | 'bundle';
  price: number;
  /** Seconds since the start of the period. */
  releasedAt: number;
}

export interface SimulatedInteraction {
  user: string;
  item: string;
  /** Unix seconds. */
  timestamp: number;
  value: number;
}

export interface SimulatedLog {
  contents: SimulatedContent[];
  interactions: SimulatedInteraction[];
  /** Each user's main topics, the planted truth. */
  userTopics: Map<string, number[]>;
}

const DAY = 86_400;
const EPOCH = 1_700_000_000;
const TAGS_PER_TOPIC = 5;

export function simulateLog(options: Partial<SimulationOptions> = {}): SimulatedLog {
  const o = { ...DEFAULT_SIMULATION, ...options };
  const rng = new Random(o.seed);
  const period = o.days * DAY;

  // Creators: Zipf-sized, each with a home topic and sometimes a second one.
  const creatorWeight = Float64Array.from({ length: o.creators }, (_, c) => 1 / (c + 1) ** 1.1);
  const creatorTopics = Array.from({ length: o.creators }, () =>
    rng.next() < 0.3 ? [rng.int(o.topics), rng.int(o.topics)] : [rng.int(o.topics)],
  );
  const cumulativeCreators = cumulative(creatorWeight);

  const contents: SimulatedContent[] = [];
  const basePopularity = new Float64Array(o.contents);
  const halfLife = new Float64Array(o.contents); // days; Infinity for evergreen
  const byTopic: number[][] = Array.from({ length: o.topics }, () => []);
  const lastOfSeries = new Map<string, number>();
  const seriesNext = new Int32Array(o.contents).fill(-1);
  const releases = Array.from({ length: o.contents }, () => (rng.next() < 0.3 ? 0 : rng.next() * 0.9 * period)).sort(
    (a, b) => a - b,
  );
  for (let i = 0; i < o.contents; i++) {
    const creator = pick(cumulativeCreators, rng);
    const topics = creatorTopics[creator];
    const topic = rng.next() < 0.85 ? topics[rng.int(topics.length)] : rng.int(o.topics);
    const r = rng.next();
    const kind = r < 0.6 ? 'lesson' : r < 0.9 ? 'course' : 'bundle';
    const price = kind === 'lesson' ? 500 + 100 * rng.int(25) : kind === 'course' ? 5000 + 500 * rng.int(50) : 20_000;
    const tags = [`t${topic}-${rng.int(TAGS_PER_TOPIC)}`, `t${topic}-${rng.int(TAGS_PER_TOPIC)}`];
    if (rng.next() < 0.3) tags.push(`t${rng.int(o.topics)}-${rng.int(TAGS_PER_TOPIC)}`);
    contents.push({
      id: `c${creator}-${i}`,
      creatorId: `creator${creator}`,
      topic,
      tags: [...new Set(tags)],
      kind,
      price,
      releasedAt: Math.round(releases[i]),
    });
    basePopularity[i] = Math.exp(1.3 * rng.normal()) * (1 + 3 * creatorWeight[creator]);
    halfLife[i] = rng.next() < 0.3 ? Number.POSITIVE_INFINITY : 30 + rng.next() * 180;
    byTopic[topic].push(i);
    const series = `${creator}/${topic}`;
    const previous = lastOfSeries.get(series);
    if (previous !== undefined && rng.next() < 0.7) seriesNext[previous] = i;
    lastOfSeries.set(series, i);
  }

  const popularityAt = (i: number, t: number) => {
    const age = t - contents[i].releasedAt;
    if (age < 0) return 0;
    return basePopularity[i] * (Number.isFinite(halfLife[i]) ? 0.1 + 0.9 * 0.5 ** (age / DAY / halfLife[i]) : 1);
  };

  const interactions: SimulatedInteraction[] = [];
  const userTopics = new Map<string, number[]>();
  const weights = new Float64Array(o.contents);
  for (let u = 0; u < o.users; u++) {
    const user = `u${u}`;
    const main = Array.from({ length: 1 + rng.int(3) }, () => rng.int(o.topics));
    userTopics.set(user, [...new Set(main)]);
    const interests = new Float64Array(o.topics).fill(0.02);
    for (const t of main) interests[t] += 1;
    const count = Math.max(2, Math.min(1500, Math.round(o.meanInteractions * Math.exp(0.9 * rng.normal() - 0.4))));
    let t = rng.next() * 0.8 * period;
    const had: number[] = [];
    const hadSet = new Set<number>();
    const creatorLoyalty = new Map<string, number>();
    let previous = -1;
    let topic = -1;
    for (let e = 0; e < count && t < period; e++) {
      // Sessions: a few events minutes apart, then a gap of days.
      t += rng.next() < 0.7 ? 60 + rng.int(1800) : DAY * (0.5 + 6 * rng.next() ** 2);
      if (t >= period) break;
      if (rng.next() < o.driftRate) interests[rng.int(o.topics)] += 1;
      let item = -1;
      if (had.length > 0 && rng.next() < o.repeatRate) {
        item = had[Math.max(0, had.length - 1 - Math.floor(-Math.log(1 - rng.next()) * 3))];
      } else if (previous >= 0 && seriesNext[previous] >= 0 && rng.next() < o.seriesRate) {
        const next = seriesNext[previous];
        if (!hadSet.has(next) && contents[next].releasedAt <= t) item = next;
      }
      if (item < 0) {
        const trending = rng.next() < 0.08;
        if (!trending) topic = topic >= 0 && rng.next() < o.topicStickiness ? topic : pick(cumulative(interests), rng);
        const pool = trending ? null : byTopic[topic];
        let total = 0;
        const n = pool ? pool.length : o.contents;
        for (let k = 0; k < n; k++) {
          const i = pool ? pool[k] : k;
          const w = hadSet.has(i) ? 0 : popularityAt(i, t) * (1 + 2 * (creatorLoyalty.get(contents[i].creatorId) ?? 0));
          weights[k] = w;
          total += w;
        }
        if (total <= 0) continue;
        let r = rng.next() * total;
        for (let k = 0; k < n; k++) {
          r -= weights[k];
          if (r <= 0) {
            item = pool ? pool[k] : k;
            break;
          }
        }
        if (item < 0) continue;
      }
      const c = contents[item];
      interactions.push({ user, item: c.id, timestamp: EPOCH + Math.round(t), value: hadSet.has(item) ? 0 : c.price });
      if (!hadSet.has(item)) {
        had.push(item);
        hadSet.add(item);
      }
      creatorLoyalty.set(c.creatorId, Math.min(3, (creatorLoyalty.get(c.creatorId) ?? 0) + 0.5));
      previous = item;
      topic = c.topic;
    }
  }
  interactions.sort((a, b) => a.timestamp - b.timestamp);
  return { contents, interactions, userTopics };
}

function cumulative(w: ArrayLike<number>): Float64Array {
  const c = new Float64Array(w.length);
  let s = 0;
  for (let i = 0; i < w.length; i++) c[i] = s += w[i];
  return c;
}

function pick(cum: Float64Array, rng: Random): number {
  const r = rng.next() * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
