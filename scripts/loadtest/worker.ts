/**
 * One load-generator thread: connects its share of the viewers at its share of the ramp, has
 * each join its room, then sends chat, likes, tips and poll votes at the configured rates and
 * measures every chat message it receives from another member. Counts go to the controller
 * (main.ts) whenever it asks for a snapshot, about once a second.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Histogram, monoMs } from './histogram';
import type { FromWorker, Snapshot, ToWorker, WorkerSetup } from './messages';
import { type AckAnswer, type ConnectError, LoadSocket } from './wire';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

interface Viewer {
  gid: number;
  /** `"<gid>:"`, what follows the timestamp in this viewer's own chat messages. */
  mark: string;
  token: string;
  roomId: string;
  sock?: LoadSocket;
  joined: boolean;
  dead: boolean;
  voted?: string;
}

const viewers: Viewer[] = setup.viewers.map((v) => ({ ...v, mark: `${v.gid}:`, joined: false, dead: false }));
/** Viewers in their room, in the order they joined (events go round this list). */
const active: Viewer[] = [];
let connected = 0;
let connecting = 0;
let attempted = 0;
let failed = 0;

let counters: Record<string, number> = {};
let acks: Record<string, number> = {};
let errors: Record<string, number> = {};
const hists = {
  latency: new Histogram(),
  connect: new Histogram(),
  join: new Histogram(),
} as Record<string, Histogram>;
const count = (name: string, n = 1) => {
  counters[name] = (counters[name] ?? 0) + n;
};
const fail = (event: string, code: string) => {
  const key = `${event} ${code}`;
  errors[key] = (errors[key] ?? 0) + 1;
};
const hist = (name: string) => {
  let h = hists[name];
  if (!h) {
    h = new Histogram();
    hists[name] = h;
  }
  return h;
};

let polls: Record<string, string> = {};
let sending = false;
let closing = false;

const CHAT_PREFIX = '"text":"lt:';
const padding = 'x'.repeat(Math.max(0, setup.chatPadding));

/**
 * A broadcast frame. Only chat messages are looked at, and without JSON.parse: the text of a
 * load-test message is `lt:<monotonic ms>:<sender gid>:<padding>`.
 */
function onBroadcast(viewer: Viewer, frame: string): void {
  counters.frames = (counters.frames ?? 0) + 1;
  if (!frame.startsWith('42["chat:message"')) {
    // Other broadcasts are few (counts, polls, tips): counted by event name.
    const key = `frames:${frame.slice(4, frame.indexOf('"', 4))}`;
    counters[key] = (counters[key] ?? 0) + 1;
    return;
  }
  counters['frames:chat:message'] = (counters['frames:chat:message'] ?? 0) + 1;
  const i = frame.indexOf(CHAT_PREFIX);
  if (i < 0) return;
  const start = i + CHAT_PREFIX.length;
  const colon = frame.indexOf(':', start);
  if (colon < 0) return;
  if (frame.startsWith(viewer.mark, colon + 1)) {
    counters.ownEchoes = (counters.ownEchoes ?? 0) + 1;
    return;
  }
  const sent = Number(frame.slice(start, colon));
  if (!(sent > 0)) return;
  counters.deliveries = (counters.deliveries ?? 0) + 1;
  hists.latency.record(Math.max(0, monoMs() - sent));
}

function onDrop(viewer: Viewer): void {
  if (viewer.dead) return;
  viewer.dead = true;
  if (viewer.joined) connected--;
  viewer.joined = false;
  if (!closing) fail('connection', 'DISCONNECTED');
}

let ramped = false;
/** Tells the controller once every viewer here has joined or failed. */
function settled(): void {
  if (!ramped && attempted === viewers.length && connecting === 0) {
    ramped = true;
    post({ type: 'ramped', worker: setup.index });
  }
}

function connect(viewer: Viewer): void {
  attempted++;
  connecting++;
  const started = monoMs();
  LoadSocket.connect(
    setup.url,
    { token: viewer.token },
    {
      onBroadcast: (frame) => onBroadcast(viewer, frame),
      onClose: () => onDrop(viewer),
      timeoutMs: setup.connectTimeoutMs,
    },
    (err: ConnectError | null, sock?: LoadSocket) => {
      if (err || !sock) {
        connecting--;
        failed++;
        fail('connect', err?.code ?? 'UNKNOWN');
        settled();
        return;
      }
      hists.connect.record(monoMs() - started);
      viewer.sock = sock;
      if (closing) {
        connecting--;
        sock.close();
        return;
      }
      const joinStarted = monoMs();
      sock.emit(
        'room:join',
        { roomId: viewer.roomId },
        (answer, error) => {
          connecting--;
          if (!answer?.ok) {
            failed++;
            fail('room:join', answer?.code ?? error ?? 'UNKNOWN');
            viewer.dead = true;
            sock.close();
            settled();
            return;
          }
          hists.join.record(monoMs() - joinStarted);
          acks['room:join'] = (acks['room:join'] ?? 0) + 1;
          viewer.joined = true;
          connected++;
          active.push(viewer);
          settled();
        },
        setup.ackTimeoutMs,
      );
    },
  );
}

/** Sends one event and accounts for its answer. */
function send(viewer: Viewer, event: string, payload: unknown): void {
  const sock = viewer.sock!;
  const started = monoMs();
  count(`sent:${event}`);
  sock.emit(
    event,
    payload,
    (answer: AckAnswer | undefined, error?: string) => {
      if (answer?.ok) {
        acks[event] = (acks[event] ?? 0) + 1;
        hist(`ack:${event}`).record(monoMs() - started);
      } else if (!(closing && error === 'DISCONNECTED')) fail(event, answer?.code ?? error ?? 'UNKNOWN');
    },
    setup.ackTimeoutMs,
  );
}

const senders: Record<keyof WorkerSetup['rates'], (v: Viewer) => void> = {
  chat: (v) => send(v, 'chat:send', { roomId: v.roomId, text: `lt:${monoMs().toFixed(3)}:${v.mark}${padding}` }),
  like: (v) => send(v, 'like:send', { roomId: v.roomId, count: 1 }),
  tip: (v) => send(v, 'tip:send', { roomId: v.roomId, amount: setup.tipAmount, idempotencyKey: randomUUID() }),
  vote: (v) => {
    const pollId = polls[v.roomId];
    if (!pollId || v.voted === pollId) {
      count('votesSkipped');
      return;
    }
    v.voted = pollId;
    send(v, 'poll:vote', { roomId: v.roomId, pollId, option: Math.floor(Math.random() * setup.pollOptions) });
  },
};

/**
 * Events go out every tick: each kind's rate times the viewers in their rooms, carried over in
 * fractions, handed round the viewers in turn (so each viewer's own rate holds, which the
 * server's per-user limits see).
 */
const TICK_MS = 50;
const owed: Record<string, number> = { chat: 0, like: 0, tip: 0, vote: 0 };
const cursor: Record<string, number> = { chat: 0, like: 0, tip: 0, vote: 0 };
let lastTick = monoMs();

function tick(): void {
  const now = monoMs();
  const dt = (now - lastTick) / 1000;
  lastTick = now;
  if (!sending || active.length === 0) return;
  if (active.length > connected * 1.25 + 16) {
    // Drop the dead from the rotation now and then.
    const alive = active.filter((v) => !v.dead);
    active.length = 0;
    active.push(...alive);
  }
  for (const kind of Object.keys(senders) as (keyof typeof senders)[]) {
    const rate = setup.rates[kind];
    if (rate <= 0) continue;
    owed[kind] += rate * connected * dt;
    let n = Math.floor(owed[kind]);
    owed[kind] -= n;
    // A stalled tick never turns into a burst bigger than one second of events.
    n = Math.min(n, Math.ceil(rate * connected) + 1);
    for (let i = 0; i < n && active.length > 0; i++) {
      const v = active[cursor[kind] % active.length];
      cursor[kind] = (cursor[kind] + 1) % active.length;
      if (v.dead || !v.sock?.open) continue;
      senders[kind](v);
    }
  }
}

function snapshot(seq: number, reset = true): Snapshot {
  let pendingAcks = 0;
  for (const v of active) if (v.sock && !v.dead) pendingAcks += v.sock.pending;
  const out: Snapshot = {
    worker: setup.index,
    seq,
    connected,
    connecting,
    attempted,
    failed,
    pendingAcks,
    counters,
    acks,
    errors,
    hists: Object.fromEntries(Object.entries(hists).map(([k, h]) => [k, h.sparse(reset)])),
  };
  if (reset) {
    counters = {};
    acks = {};
    errors = {};
  }
  return out;
}

let rampTimer: NodeJS.Timeout | undefined;
let tickTimer: NodeJS.Timeout | undefined;

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'start': {
      let next = 0;
      const rate = setup.rampPerSecond;
      rampTimer = setInterval(() => {
        const due = Math.min(viewers.length, Math.floor(((monoMs() - m.t0) / 1000) * rate) + 1);
        while (next < due && connecting < setup.maxConnecting && !closing) connect(viewers[next++]);
        if (next >= viewers.length) clearInterval(rampTimer);
      }, 10);
      sending = true;
      lastTick = monoMs();
      tickTimer = setInterval(tick, TICK_MS);
      break;
    }
    case 'polls':
      polls = { ...polls, ...m.polls };
      break;
    case 'snap':
      post({ type: 'snap', ...snapshot(m.seq) });
      break;
    case 'stop':
      sending = false;
      if (rampTimer) clearInterval(rampTimer);
      break;
    case 'close': {
      sending = false;
      if (rampTimer) clearInterval(rampTimer);
      if (tickTimer) clearInterval(tickTimer);
      const final = snapshot(-1);
      closing = true;
      for (const v of viewers) v.sock?.close();
      post({ type: 'final', ...final });
      break;
    }
  }
});

post({ type: 'ready', worker: setup.index });
