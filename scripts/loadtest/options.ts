import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Rates } from './messages';

/** Hard bounds: the generator never goes past these, whatever it is asked. */
export const LIMITS = {
  viewers: 20_000,
  rooms: 1_000,
  durationSeconds: 1_800,
  rampSeconds: 600,
  rampPerSecond: 5_000,
  workers: 64,
  ratePerViewer: 10,
  connectionsPerAccount: 1_000,
  chatPadding: 400,
} as const;

export interface Options {
  url: string;
  viewers: number;
  /** Rooms to create, or none when `roomIds` is given. */
  rooms: number;
  roomIds: string[];
  ownerToken?: string;
  rampPerSecond: number;
  durationSeconds: number;
  drainSeconds: number;
  rates: Rates;
  tipAmount: number;
  chatPadding: number;
  workers: number;
  connectionsPerAccount: number;
  registerConcurrency: number;
  accountsFile?: string;
  ackTimeoutMs: number;
  metricsToken?: string;
  report: string | null;
  keepRooms: boolean;
  allowRemote: boolean;
  quiet: boolean;
  serverEnv: boolean;
  help: boolean;
}

export const HELP = `lectern-loadtest — drive a running Lectern server with simulated viewers

  npm run loadtest -- [options]          npx lectern-loadtest [options]

Each viewer is a signed-in account (registered through the API) on a raw WebSocket speaking the
Socket.IO wire protocol; the viewers are spread over worker threads. Rooms are created through
the API (one creator each, live, free) unless --rooms lists existing ones. After the ramp, the
load runs for --duration seconds; then it drains, prints one JSON line on stdout and writes an
HTML report. Progress goes to stderr.

Target
  --url URL                    server to load (default http://127.0.0.1:3000); loopback only
  --allow-remote               allow a non-loopback URL (only a server you own)
  --metrics-token TOKEN        bearer token for /metrics (default: $METRICS_TOKEN)

Shape of the load
  --viewers N                  simulated viewers (default 100, at most ${LIMITS.viewers}); alias --clients
  --rooms N | --rooms ID,ID    rooms to create (default 1, at most ${LIMITS.rooms}), or existing live room ids
  --owner-token TOKEN          with --rooms ID,...: the owner's token, so polls can be created
  --ramp N                     connections opened per second (default 200, at most ${LIMITS.rampPerSecond})
  --duration S                 seconds of load after the ramp (default 30, at most ${LIMITS.durationSeconds})
  --drain S                    seconds to wait for answers and deliveries at the end (default 2)

Per viewer, events per second (decimals allowed, at most ${LIMITS.ratePerViewer} each)
  --chat-rate R                chat messages (default 0.1)
  --like-rate R                like taps (default 0.2)
  --tip-rate R                 tips (default 0.01; wallets are topped up first)
  --vote-rate R                poll votes (default 0.05; each room's creator opens a new poll
                               every 1/R seconds and each viewer votes once per poll)
  --tip-amount N               minor units per tip (default 10)
  --chat-bytes N               extra characters per chat message (default 0)

Generator
  --workers N                  worker threads (default: cores available, ${availableParallelism()} here)
  --connections-per-account K  viewers sharing one account (default 1: registers fewer users,
                               but the server's per-user chat and like limits are then shared)
  --register-concurrency N     registrations in flight (default 32)
  --accounts-file FILE         keep the viewers' tokens in FILE and reuse them next run against the
                               same URL (registration hashes a password: ~20-50 ms of server CPU each)
  --ack-timeout MS             an event unanswered this long is an error TIMEOUT (default 10000)

Output
  --report FILE                HTML report (default ./loadtest-report.html, else /tmp)
  --no-report                  no HTML report
  --keep-rooms                 leave the rooms it created live (default: ends them)
  --quiet                      no progress on stderr
  --server-env                 print the server settings this load needs and exit
  -h, --help                   this text

The server sees every viewer come from 127.0.0.1: start it with raised per-IP and per-user
limits (--server-env prints them for the options given), e.g.
  MAX_CONNECTIONS_PER_IP=100000 AUTH_RATE_LIMIT_PER_MINUTE=100000 HTTP_RATE_LIMIT_PER_MINUTE=1000000 \\
  SOCKET_EVENTS_PER_SECOND=1000 CHAT_MESSAGES_PER_SECOND=10 CHAT_BURST=20 npm start

Output (stdout, one JSON line): connectMs, joinMs and deliveryLatencyMs {count,p50,p95,p99,max};
deliveries and deliveriesPerSecond (chat messages received by the other members of the room);
sent, acks and ack latencies per event; errors {total, byCode, byEvent}; server CPU and memory
(from /metrics) and the generator's own CPU. Bounded: at most ${LIMITS.viewers} viewers,
${LIMITS.durationSeconds} s of load and a ${LIMITS.rampSeconds} s ramp.
`;

export class UsageError extends Error {}

function number(name: string, raw: string, min: number, max: number, integer = true): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new UsageError(`--${name}: not a number: ${raw}`);
  if (v < min || v > max) throw new UsageError(`--${name}: ${raw} is outside ${min}..${max}`);
  return v;
}

const FLAGS = new Set(['allow-remote', 'no-report', 'keep-rooms', 'quiet', 'server-env', 'help']);

export function parseOptions(argv: string[], env: Record<string, string | undefined> = process.env): Options {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h') {
      given.set('help', '');
      continue;
    }
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    let name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (name === 'clients') name = 'viewers';
    if (FLAGS.has(name)) {
      given.set(name, '');
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    given.set(name, value);
  }
  const known = new Set([
    ...FLAGS,
    'url',
    'viewers',
    'rooms',
    'owner-token',
    'ramp',
    'duration',
    'drain',
    'chat-rate',
    'like-rate',
    'tip-rate',
    'vote-rate',
    'tip-amount',
    'chat-bytes',
    'workers',
    'connections-per-account',
    'register-concurrency',
    'accounts-file',
    'ack-timeout',
    'metrics-token',
    'report',
  ]);
  for (const name of given.keys()) if (!known.has(name)) throw new UsageError(`unknown option --${name} (see --help)`);
  const get = (name: string, fallback: string) => given.get(name) ?? fallback;

  const rate = (name: string, fallback: string) => number(name, get(name, fallback), 0, LIMITS.ratePerViewer, false);
  const roomsRaw = get('rooms', '1');
  const roomIds = /^\d+$/.test(roomsRaw)
    ? []
    : roomsRaw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  const viewers = number('viewers', get('viewers', '100'), 1, LIMITS.viewers);
  const rampPerSecond = number('ramp', get('ramp', '200'), 0.1, LIMITS.rampPerSecond, false);
  if (viewers / rampPerSecond > LIMITS.rampSeconds) {
    throw new UsageError(
      `--ramp ${rampPerSecond}: ${viewers} viewers would take ${Math.ceil(viewers / rampPerSecond)} s to connect (at most ${LIMITS.rampSeconds})`,
    );
  }
  const report = given.has('no-report') ? null : given.get('report');
  const opts: Options = {
    url: get('url', 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    viewers,
    rooms: roomIds.length ? roomIds.length : number('rooms', roomsRaw, 1, Math.min(LIMITS.rooms, viewers)),
    roomIds,
    ownerToken: given.get('owner-token'),
    rampPerSecond,
    durationSeconds: number('duration', get('duration', '30'), 1, LIMITS.durationSeconds, false),
    drainSeconds: number('drain', get('drain', '2'), 0, 60, false),
    rates: {
      chat: rate('chat-rate', '0.1'),
      like: rate('like-rate', '0.2'),
      tip: rate('tip-rate', '0.01'),
      vote: rate('vote-rate', '0.05'),
    },
    tipAmount: number('tip-amount', get('tip-amount', '10'), 1, 1_000_000),
    chatPadding: number('chat-bytes', get('chat-bytes', '0'), 0, LIMITS.chatPadding),
    workers: number('workers', get('workers', String(availableParallelism())), 1, LIMITS.workers),
    connectionsPerAccount: number(
      'connections-per-account',
      get('connections-per-account', '1'),
      1,
      LIMITS.connectionsPerAccount,
    ),
    registerConcurrency: number('register-concurrency', get('register-concurrency', '32'), 1, 512),
    accountsFile: given.has('accounts-file') ? path.resolve(given.get('accounts-file')!) : undefined,
    ackTimeoutMs: number('ack-timeout', get('ack-timeout', '10000'), 100, 120_000),
    metricsToken: given.get('metrics-token') ?? env.METRICS_TOKEN,
    report: report === null ? null : (report ?? 'loadtest-report.html'),
    keepRooms: given.has('keep-rooms'),
    allowRemote: given.has('allow-remote'),
    quiet: given.has('quiet'),
    serverEnv: given.has('server-env'),
    help: given.has('help'),
  };
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new UsageError(`--url: not a URL: ${opts.url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError('--url must be http(s)');
  if (!opts.allowRemote && !isLoopback(parsed.hostname)) {
    throw new UsageError(`refusing to load ${parsed.hostname}: pass --allow-remote, and only for a server you own`);
  }
  if (opts.report) opts.report = path.resolve(opts.report);
  return opts;
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The server settings (environment) this load needs, since every viewer comes from one address. */
export function serverEnvFor(o: Options): Record<string, string> {
  const accounts = Math.ceil(o.viewers / o.connectionsPerAccount) + o.rooms + 10;
  const perUser = (rate: number) => rate * o.connectionsPerAccount;
  const eventsPerConnection = o.rates.chat + o.rates.like + o.rates.tip + o.rates.vote;
  const ceil = (v: number, min: number, max: number) => String(Math.min(max, Math.max(min, Math.ceil(v))));
  return {
    MAX_CONNECTIONS_PER_IP: ceil((o.viewers + o.rooms) * 1.1 + 10, 100, 100_000),
    MAX_CONNECTIONS_PER_USER: ceil(o.connectionsPerAccount + 1, 10, 1000),
    // Registration counts against both the auth limit and the per-IP API limit of guests.
    AUTH_RATE_LIMIT_PER_MINUTE: ceil(accounts * 2, 30, 100_000),
    HTTP_RATE_LIMIT_PER_MINUTE: ceil(accounts * 4 + 1000, 600, 1_000_000),
    SOCKET_EVENTS_PER_SECOND: ceil(eventsPerConnection * 4 + 20, 20, 10_000),
    CHAT_MESSAGES_PER_SECOND: ceil(perUser(o.rates.chat) * 2, 1, 100),
    CHAT_BURST: ceil(perUser(o.rates.chat) * 4 + 5, 5, 100),
    LIKES_PER_SECOND: ceil(perUser(o.rates.like) * 2, 20, 1000),
  };
}
