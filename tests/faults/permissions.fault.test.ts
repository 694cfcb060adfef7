import { randomUUID } from 'node:crypto';
import type { ClientToServerEvents, MediaJson } from '../../protocol';
import { opusRtpParameters } from '../../server/media/test-support';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, next, ok, send } from '../helpers/socket';

/**
 * The permission matrix: every kind of caller × every protected action, each cell run against a
 * real server (HTTP and Socket.IO, one mediasoup worker for the media rows), and only the allowed
 * cells succeed; the others fail with the coded error the docs promise (docs/http.md,
 * docs/protocol.md, docs/vod.md). What a cell should do is written from the product — only the
 * owner and admins manage a room, its money and its content; moderators moderate; buyers and
 * subscribers get the paid room they paid for; guests read the public catalog and watch free
 * rooms — not read back from the code.
 *
 * Subjects, one per column:
 * - guest: no token (HTTP without Authorization; a socket without a token);
 * - viewer: signed in, owns nothing;
 * - buyer: holds a ticket to the paid (ticket) room and the replay's room, and bought the paid lesson;
 * - subscriber: subscribed to the owner (full access to the owner's subscribers room only:
 *   a ticket room sells tickets, docs/protocol.md "Access to paid rooms");
 * - moderator: appointed moderator of the owner's rooms;
 * - otherCreator: a creator who owns none of it;
 * - owner: the creator who owns the rooms and contents;
 * - admin;
 * - demoted: was an admin, then made a viewer. Its socket was opened and put in the rooms while it
 *   was an admin (and heard `role:changed` when demoted), so every socket row but the two
 *   `room:join` ones (fresh connections) checks that an open connection loses an admin's powers too.
 *
 * Left out: media rows beyond join / transport / produce (pause, resume, consume of a producer go
 * through the same `member()` check), uploads and covers (the ownership checks of the PATCH and
 * DELETE rows; they need ffmpeg or images), `POST /api/payouts` (nobody has released earnings in a
 * fresh database: it could only say INSUFFICIENT_FUNDS), `POST /api/admin/payouts/:id/retry` (needs
 * a failed payout), `subscription:create` over the socket (the same operation as the HTTP row),
 * previews (tests/gateway/access.test.ts), `suggestion:*` (needs the recommender).
 */

const SUBJECTS = [
  'guest',
  'viewer',
  'buyer',
  'subscriber',
  'moderator',
  'otherCreator',
  'owner',
  'admin',
  'demoted',
] as const;
type Subject = (typeof SUBJECTS)[number];

/** `true`: the action succeeds; otherwise the error code it must fail with. */
type Cell = true | string;
/** What a cell did: `ok`, or the error code it got. */
type Outcome = string;

const OK = true;
const U = 'UNAUTHENTICATED';
const F = 'FORBIDDEN';
const P = 'PAYMENT_REQUIRED';
const C = 'CONFLICT';
/** A join that succeeds but gives no access (the room's card only): what a paid room gives the unpaid. */
const NONE = 'ACCESS_NONE';

/** One row, in the order of SUBJECTS. */
function row(...cells: Cell[]): Record<Subject, Cell> {
  if (cells.length !== SUBJECTS.length) throw new Error(`a row has ${SUBJECTS.length} cells, not ${cells.length}`);
  return Object.fromEntries(SUBJECTS.map((s, i) => [s, cells[i]])) as Record<Subject, Cell>;
}

// Columns: guest, viewer, buyer, subscriber, moderator, otherCreator, owner, admin, demoted.
const PUBLIC = row(OK, OK, OK, OK, OK, OK, OK, OK, OK);
const SIGNED_IN = row(U, OK, OK, OK, OK, OK, OK, OK, OK);
const CREATORS = row(U, F, F, F, F, OK, OK, OK, F);
const OWNER_ADMIN = row(U, F, F, F, F, F, OK, OK, F);
const ADMIN_ONLY = row(U, F, F, F, F, F, F, OK, F);
/** The owner, the room's moderators and admins (room moderation). */
const STAFF = row(U, F, F, F, OK, F, OK, OK, F);
/** Members with full access to the ticket room take part. */
const TICKET_ACCESS = row(U, P, OK, P, OK, P, OK, OK, P);
/** Anyone signed in may buy, except the seller from themselves. */
const BUYERS = row(U, OK, OK, OK, OK, OK, C, OK, OK);

let s: TestServer;
const accounts = {} as Record<Exclude<Subject, 'guest'>, Account>;
const sockets = {} as Record<Subject, ClientSocket>;
let speaker: Account; // a ticket holder whose messages and questions are moderated
let speakerSock: ClientSocket;
let payer: Account; // buys what the refund row refunds
let paidRoom: string; // a live ticket room (no preview)
let subsRoom: string; // a live subscribers room
let freeRoom: string; // a live free room
let pastRoom: string; // an ended ticket room with a replay
let paidContent: string; // a paid lesson with a video and notes
let otherRoom: string; // a live free room of the other creator
let ownerHook: string; // a webhook of the owner's (read only; DELETE gets fresh ones: 20 per account at most)
const NOTES = 'what the buyers paid for';

const token = (subject: Subject) => (subject === 'guest' ? undefined : accounts[subject].token);
const db = () => s.lectern.database.db;

async function http(subject: Subject, method: string, path: string, body?: unknown, key?: string): Promise<Outcome> {
  const res = await s.api.request(method, path, { token: token(subject), body, key });
  if (res.status < 300) return 'ok';
  return res.body?.error?.code ?? `HTTP_${res.status}`;
}

async function emit<E extends keyof ClientToServerEvents>(
  sock: ClientSocket,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
): Promise<{ outcome: Outcome; data?: any }> {
  const res = await send(sock, event, payload);
  return res.ok ? { outcome: 'ok', data: res.data } : { outcome: res.error.code };
}

const on = <E extends keyof ClientToServerEvents>(
  subject: Subject,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
) => emit(sockets[subject], event, payload).then((r) => r.outcome);

// --- fixtures: each destructive cell gets its own target -----------------------------------------

async function readyAsset(origin: 'upload' | 'recording', roomId: string | null = null): Promise<string> {
  const asset = await db()
    .insertInto('media_assets')
    .values({
      owner_id: accounts.owner.user.id,
      origin,
      status: 'ready',
      room_id: roomId,
      duration_seconds: 4,
      playable_seconds: 4,
      segments: JSON.stringify([{ uri: 'seg_00000.ts', duration: 4 }]),
      ready_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return asset.id;
}

async function ownerRoom(fields: Record<string, unknown> = {}, status: 'scheduled' | 'live' | 'ended' = 'scheduled') {
  const room = await s.api.room(accounts.owner.token, { record: false, ...fields });
  if (status !== 'scheduled') await s.api.post(`/api/rooms/${room.id}/start`, {}, accounts.owner.token);
  if (status === 'ended') await s.api.post(`/api/rooms/${room.id}/end`, {}, accounts.owner.token);
  return room.id as string;
}

async function endedRoomWithReplay(fields: Record<string, unknown> = {}): Promise<string> {
  const roomId = await ownerRoom(fields, 'ended');
  const asset = await readyAsset('recording', roomId);
  await db().updateTable('rooms').set({ replay_asset_id: asset }).where('id', '=', roomId).execute();
  return roomId;
}

const ownerContent = async () => (await s.api.content(accounts.owner.token, { price: 500 })).id as string;

async function ownerWebhook(): Promise<string> {
  const res = await s.api.post(
    '/api/webhooks',
    { url: 'http://127.0.0.1:9/hook', events: ['room.started'] },
    accounts.owner.token,
  );
  if (res.status !== 201) throw new Error(`webhook: ${JSON.stringify(res.body)}`);
  return res.body.webhook.id;
}

async function freshPurchase(): Promise<string> {
  const contentId = await ownerContent();
  const res = await s.api.post('/api/purchases', { contentId }, payer.token, randomUUID());
  if (res.status !== 201) throw new Error(`purchase: ${JSON.stringify(res.body)}`);
  return res.body.purchase.id;
}

async function speakerMessage(): Promise<string> {
  return (await ok(speakerSock, 'chat:send', { roomId: paidRoom, text: 'a message to moderate' })).message.id;
}

async function speakerQuestion(): Promise<string> {
  const q = await db()
    .insertInto('questions')
    .values({ room_id: paidRoom, user_id: speaker.user.id, text: 'a question' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return q.id;
}

/** A poll in the paid room, closed again (a room holds at most 3 open polls) once the cell is done. */
async function withPoll(cell: (pollId: string) => Promise<Outcome>): Promise<Outcome> {
  const { poll } = await ok(sockets.owner, 'poll:create', {
    roomId: paidRoom,
    question: 'Which?',
    options: ['a', 'b'],
  });
  try {
    return await cell(poll.id);
  } finally {
    await send(sockets.owner, 'poll:close', { roomId: paidRoom, pollId: poll.id });
  }
}

const victim = async () => (await s.api.register()).user.id;

/** A fresh connection of the subject, for rows that must not reuse the subject's own. */
async function freshJoin(subject: Subject, roomId: string): Promise<Outcome> {
  const sock = await connect(s.url, token(subject));
  try {
    const { outcome, data } = await emit(sock, 'room:join', { roomId });
    if (outcome !== 'ok') return outcome;
    return data.access === 'full' ? 'ok' : data.access === 'none' ? NONE : `ACCESS_${data.access.toUpperCase()}`;
  } finally {
    sock.close();
  }
}

/** Runs socket steps in order; the first failure is the outcome. `media:leave` afterwards, always. */
async function mediaSteps(
  subject: Subject,
  roomId: string,
  steps: ((prev: any) => Promise<{ outcome: Outcome; data?: any }>)[],
) {
  try {
    let prev: any;
    for (const step of steps) {
      const { outcome, data } = await step(prev);
      if (outcome !== 'ok') return outcome;
      prev = data;
    }
    return 'ok';
  } finally {
    await send(sockets[subject], 'media:leave', { roomId });
  }
}

interface Action {
  name: string;
  expected: Record<Subject, Cell>;
  run(subject: Subject): Promise<Outcome>;
}

const ACTIONS: Action[] = [
  // --- HTTP: the public catalog and oneself ------------------------------------------------------
  { name: 'GET /api/contents (public catalog)', expected: PUBLIC, run: (x) => http(x, 'GET', '/api/contents') },
  {
    name: 'GET /api/rooms/:id (a paid room’s card)',
    expected: PUBLIC,
    run: (x) => http(x, 'GET', `/api/rooms/${paidRoom}`),
  },
  { name: 'GET /api/me', expected: SIGNED_IN, run: (x) => http(x, 'GET', '/api/me') },
  { name: 'GET /api/wallet (one’s own)', expected: SIGNED_IN, run: (x) => http(x, 'GET', '/api/wallet') },
  {
    // Anyone signed in follows a creator; nobody follows themselves.
    name: 'PUT /api/creators/:id/follow (the owner)',
    expected: row(U, OK, OK, OK, OK, OK, 'INVALID_ARGUMENT', OK, OK),
    run: (x) => http(x, 'PUT', `/api/creators/${accounts.owner.user.id}/follow`),
  },
  {
    name: 'DELETE /api/creators/:id/follow (the owner)',
    expected: SIGNED_IN,
    run: (x) => http(x, 'DELETE', `/api/creators/${accounts.owner.user.id}/follow`),
  },
  { name: 'GET /api/me/follows (one’s own)', expected: SIGNED_IN, run: (x) => http(x, 'GET', '/api/me/follows') },

  // --- HTTP: contents and rooms ------------------------------------------------------------------
  {
    name: 'POST /api/contents',
    expected: CREATORS,
    run: (x) => http(x, 'POST', '/api/contents', { title: 'Mine', kind: 'lesson', price: 100 }),
  },
  {
    name: 'PATCH /api/contents/:id (the owner’s lesson)',
    expected: OWNER_ADMIN,
    run: async (x) => http(x, 'PATCH', `/api/contents/${await ownerContent()}`, { title: 'Renamed' }),
  },
  {
    name: 'DELETE /api/contents/:id (the owner’s lesson)',
    expected: OWNER_ADMIN,
    run: async (x) => http(x, 'DELETE', `/api/contents/${await ownerContent()}`),
  },
  {
    name: 'POST /api/rooms',
    expected: CREATORS,
    run: (x) => http(x, 'POST', '/api/rooms', { title: 'Mine', access: 'free', record: false }),
  },
  {
    name: 'PATCH /api/rooms/:id (the owner’s room)',
    expected: OWNER_ADMIN,
    run: async (x) => http(x, 'PATCH', `/api/rooms/${await ownerRoom()}`, { title: 'Renamed' }),
  },
  {
    name: 'POST /api/rooms/:id/start',
    expected: OWNER_ADMIN,
    run: async (x) => http(x, 'POST', `/api/rooms/${await ownerRoom()}/start`),
  },
  {
    name: 'POST /api/rooms/:id/end',
    expected: OWNER_ADMIN,
    run: async (x) => http(x, 'POST', `/api/rooms/${await ownerRoom({}, 'live')}/end`),
  },

  // --- HTTP: what is paid for --------------------------------------------------------------------
  {
    name: 'GET /api/contents/:id/media (the paid lesson’s playback URL)',
    expected: row(U, P, OK, P, P, P, OK, OK, P),
    run: async (x) => {
      const res = await s.api.get(`/api/contents/${paidContent}/media`, token(x));
      if (res.status === 200 && !res.body.media.playlistUrl) return 'NO_PLAYLIST_URL';
      return res.status === 200 ? 'ok' : res.body.error.code;
    },
  },
  {
    name: 'GET /api/contents/:id (the paid lesson’s notes)',
    expected: row(NONE, NONE, OK, NONE, NONE, NONE, OK, OK, NONE),
    run: async (x) => {
      const res = await s.api.get(`/api/contents/${paidContent}`, token(x));
      if (res.status !== 200) return res.body.error.code;
      return res.body.notes === NOTES ? 'ok' : res.body.notes === undefined ? NONE : 'WRONG_NOTES';
    },
  },
  {
    name: 'POST /api/progress (the paid lesson)',
    expected: row(U, P, OK, P, P, P, OK, OK, P),
    run: (x) => http(x, 'POST', '/api/progress', { contentId: paidContent, positionSeconds: 1, durationSeconds: 4 }),
  },
  {
    name: 'GET /api/rooms/:id/replay (a ticket room’s replay)',
    expected: row(U, P, OK, P, OK, P, OK, OK, P),
    run: async (x) => {
      const res = await s.api.get(`/api/rooms/${pastRoom}/replay`, token(x));
      if (res.status === 200 && !res.body.media.playlistUrl) return 'NO_PLAYLIST_URL';
      return res.status === 200 ? 'ok' : res.body.error.code;
    },
  },
  {
    name: 'PATCH /api/rooms/:id/replay (trim)',
    expected: OWNER_ADMIN,
    run: async (x) =>
      http(x, 'PATCH', `/api/rooms/${await endedRoomWithReplay()}/replay`, { startSeconds: 0, endSeconds: null }),
  },
  {
    name: 'DELETE /api/rooms/:id/replay',
    expected: OWNER_ADMIN,
    run: async (x) => http(x, 'DELETE', `/api/rooms/${await endedRoomWithReplay()}/replay`),
  },
  {
    name: 'POST /api/rooms/:id/replay/lesson (sell the replay)',
    expected: OWNER_ADMIN,
    run: async (x) => {
      const res = await s.api.request('POST', `/api/rooms/${pastRoom}/replay/lesson`, {
        token: token(x),
        body: { title: 'The replay', price: 300 },
      });
      if (res.status !== 201) return res.body.error.code;
      // Sold for the room's owner, whoever clicked: the sale is theirs.
      return res.body.content.creatorId === accounts.owner.user.id ? 'ok' : 'SOLD_AS_SOMEONE_ELSES';
    },
  },

  // --- HTTP: money ---------------------------------------------------------------------------------
  {
    name: 'POST /api/purchases {contentId} (a paid lesson)',
    expected: BUYERS,
    run: async (x) => http(x, 'POST', '/api/purchases', { contentId: await ownerContent() }, randomUUID()),
  },
  {
    name: 'POST /api/purchases {roomId} (a ticket)',
    expected: BUYERS,
    run: async (x) =>
      http(
        x,
        'POST',
        '/api/purchases',
        { roomId: await ownerRoom({ access: 'ticket', ticketPrice: 200 }) },
        randomUUID(),
      ),
  },
  {
    name: 'POST /api/admin/purchases/:id/refund',
    expected: ADMIN_ONLY,
    run: async (x) => http(x, 'POST', `/api/admin/purchases/${await freshPurchase()}/refund`, undefined, randomUUID()),
  },
  { name: 'GET /api/earnings', expected: CREATORS, run: (x) => http(x, 'GET', '/api/earnings') },
  {
    name: 'GET /api/creators/me/earnings',
    expected: CREATORS,
    run: (x) => http(x, 'GET', '/api/creators/me/earnings'),
  },
  { name: 'GET /api/payouts', expected: CREATORS, run: (x) => http(x, 'GET', '/api/payouts') },
  { name: 'GET /api/admin/payouts', expected: ADMIN_ONLY, run: (x) => http(x, 'GET', '/api/admin/payouts') },

  // --- HTTP: analytics and webhooks ----------------------------------------------------------------
  {
    name: 'GET /api/analytics/rooms/:id (the owner’s room)',
    expected: OWNER_ADMIN,
    run: (x) => http(x, 'GET', `/api/analytics/rooms/${paidRoom}`),
  },
  {
    name: 'GET /api/analytics/creator?creatorId=<owner>',
    expected: OWNER_ADMIN,
    run: (x) => http(x, 'GET', `/api/analytics/creator?creatorId=${accounts.owner.user.id}`),
  },
  {
    name: 'POST /api/webhooks (scope creator)',
    expected: CREATORS,
    run: (x) => http(x, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['tip.created'] }),
  },
  {
    name: 'POST /api/webhooks (scope platform)',
    expected: ADMIN_ONLY,
    run: (x) =>
      http(x, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['tip.created'], scope: 'platform' }),
  },
  { name: 'GET /api/webhooks', expected: CREATORS, run: (x) => http(x, 'GET', '/api/webhooks') },
  {
    name: 'GET /api/webhooks/:id (the owner’s)',
    expected: OWNER_ADMIN,
    run: (x) => http(x, 'GET', `/api/webhooks/${ownerHook}`),
  },
  {
    name: 'GET /api/webhooks/:id/deliveries (the owner’s)',
    expected: OWNER_ADMIN,
    run: (x) => http(x, 'GET', `/api/webhooks/${ownerHook}/deliveries`),
  },
  {
    name: 'DELETE /api/webhooks/:id (the owner’s)',
    expected: OWNER_ADMIN,
    run: async (x) => http(x, 'DELETE', `/api/webhooks/${await ownerWebhook()}`),
  },

  // --- Socket: access to paid rooms (a fresh connection each) ------------------------------------
  {
    name: 'room:join the ticket room → full access',
    expected: row(NONE, NONE, OK, NONE, OK, NONE, OK, OK, NONE),
    run: (x) => freshJoin(x, paidRoom),
  },
  {
    name: 'room:join the subscribers room → full access',
    expected: row(NONE, NONE, NONE, OK, OK, NONE, OK, OK, NONE),
    run: (x) => freshJoin(x, subsRoom),
  },

  // --- Socket: taking part in the ticket room (each subject's own connection, in it already) ------
  {
    name: 'like:send in the free room (guests only watch)',
    expected: SIGNED_IN,
    run: (x) => on(x, 'like:send', { roomId: freeRoom, count: 1 }),
  },
  {
    name: 'purchase:create {roomId} over the socket (a ticket)',
    expected: BUYERS,
    run: async (x) =>
      on(x, 'purchase:create', {
        roomId: await ownerRoom({ access: 'ticket', ticketPrice: 200 }),
        idempotencyKey: randomUUID(),
      }),
  },
  { name: 'chat:send', expected: TICKET_ACCESS, run: (x) => on(x, 'chat:send', { roomId: paidRoom, text: 'hello' }) },
  { name: 'like:send', expected: TICKET_ACCESS, run: (x) => on(x, 'like:send', { roomId: paidRoom, count: 1 }) },
  {
    name: 'tip:send',
    expected: row(U, P, OK, P, OK, P, C, OK, P),
    run: (x) => on(x, 'tip:send', { roomId: paidRoom, amount: 100, idempotencyKey: randomUUID() }),
  },
  {
    name: 'question:ask',
    expected: TICKET_ACCESS,
    run: (x) => on(x, 'question:ask', { roomId: paidRoom, text: 'Why?' }),
  },
  {
    name: 'question:upvote (someone else’s)',
    expected: TICKET_ACCESS,
    run: async (x) => on(x, 'question:upvote', { roomId: paidRoom, questionId: await speakerQuestion() }),
  },
  {
    name: 'poll:vote',
    expected: TICKET_ACCESS,
    run: (x) => withPoll((pollId) => on(x, 'poll:vote', { roomId: paidRoom, pollId, option: 0 })),
  },

  // --- Socket: running the room --------------------------------------------------------------------
  {
    name: 'question:answer',
    expected: STAFF,
    run: async (x) => on(x, 'question:answer', { roomId: paidRoom, questionId: await speakerQuestion() }),
  },
  {
    name: 'poll:create',
    expected: STAFF,
    run: async (x) => {
      const { outcome, data } = await emit(sockets[x], 'poll:create', {
        roomId: paidRoom,
        question: 'Ready?',
        options: ['yes', 'no'],
      });
      if (data) await ok(sockets.owner, 'poll:close', { roomId: paidRoom, pollId: data.poll.id });
      return outcome;
    },
  },
  {
    name: 'poll:close',
    expected: STAFF,
    run: (x) => withPoll((pollId) => on(x, 'poll:close', { roomId: paidRoom, pollId })),
  },
  {
    name: 'chat:delete (someone else’s message)',
    expected: STAFF,
    run: async (x) => on(x, 'chat:delete', { roomId: paidRoom, messageId: await speakerMessage() }),
  },
  {
    name: 'moderation:mute',
    expected: STAFF,
    run: async (x) => on(x, 'moderation:mute', { roomId: paidRoom, userId: await victim(), seconds: 60 }),
  },
  {
    name: 'moderation:ban',
    expected: STAFF,
    run: async (x) => on(x, 'moderation:ban', { roomId: paidRoom, userId: await victim() }),
  },
  {
    name: 'moderation:ban a moderator (only the owner and admins moderate moderators)',
    expected: OWNER_ADMIN,
    run: async (x) => {
      const userId = await victim();
      await ok(sockets.owner, 'moderation:moderator', { roomId: paidRoom, userId, grant: true });
      return on(x, 'moderation:ban', { roomId: paidRoom, userId });
    },
  },
  {
    name: 'moderation:ban the owner (nobody)',
    expected: row(U, F, F, F, F, F, 'INVALID_ARGUMENT', F, F),
    run: (x) => on(x, 'moderation:ban', { roomId: paidRoom, userId: accounts.owner.user.id }),
  },
  {
    name: 'moderation:ban in the other creator’s room (appointed elsewhere counts for nothing)',
    expected: row(U, F, F, F, F, OK, F, OK, F),
    run: async (x) => {
      await ok(sockets[x], 'room:join', { roomId: otherRoom });
      return on(x, 'moderation:ban', { roomId: otherRoom, userId: await victim() });
    },
  },
  {
    name: 'moderation:unban',
    expected: STAFF,
    run: async (x) => {
      const userId = await victim();
      await ok(sockets.owner, 'moderation:ban', { roomId: paidRoom, userId });
      return on(x, 'moderation:unban', { roomId: paidRoom, userId });
    },
  },
  {
    name: 'moderation:settings',
    expected: STAFF,
    run: (x) => on(x, 'moderation:settings', { roomId: paidRoom, settings: { slowModeSeconds: 0 } }),
  },
  { name: 'moderation:list', expected: STAFF, run: (x) => on(x, 'moderation:list', { roomId: paidRoom }) },
  {
    name: 'moderation:moderator (appoint one)',
    expected: OWNER_ADMIN,
    run: async (x) => on(x, 'moderation:moderator', { roomId: paidRoom, userId: await victim(), grant: true }),
  },

  // --- Socket: media (one mediasoup worker) -------------------------------------------------------
  {
    name: 'media:join + recv transport (watch the ticket room’s stream)',
    expected: row(P, P, OK, P, OK, P, OK, OK, P),
    run: (x) =>
      mediaSteps(x, paidRoom, [
        () => emit(sockets[x], 'media:join', { roomId: paidRoom }),
        () => emit(sockets[x], 'media:transport:create', { roomId: paidRoom, direction: 'recv' }),
      ]),
  },
  {
    name: 'media:transport:create send + media:produce (publish, in a free room)',
    expected: row(F, F, F, F, F, F, OK, F, F),
    run: (x) =>
      mediaSteps(x, freeRoom, [
        () => emit(sockets[x], 'media:join', { roomId: freeRoom }),
        () => emit(sockets[x], 'media:transport:create', { roomId: freeRoom, direction: 'send' }),
        (transport) =>
          emit(sockets[x], 'media:produce', {
            roomId: freeRoom,
            transportId: transport.id,
            kind: 'audio',
            rtpParameters: opusRtpParameters() as unknown as MediaJson,
            source: 'microphone',
          }),
      ]),
  },

  // --- Last: subscribing changes access, so each one is refunded at once ---------------------------
  {
    name: 'POST /api/subscriptions {creatorId: owner} (refunded after)',
    expected: BUYERS,
    run: async (x) => {
      const res = await s.api.post('/api/subscriptions', { creatorId: accounts.owner.user.id }, token(x), randomUUID());
      if (res.status !== 201) return res.body.error.code;
      const refund = await s.api.post(
        `/api/admin/purchases/${res.body.purchase.id}/refund`,
        {},
        accounts.admin.token,
        randomUUID(),
      );
      if (refund.status !== 200) throw new Error(`refund: ${JSON.stringify(refund.body)}`);
      return 'ok';
    },
  },
];

const tally = { cells: 0, allowed: 0, denied: 0, mismatched: 0 };
let started = 0;

beforeAll(async () => {
  started = Date.now();
  s = await startTestServer({
    MEDIA_ENABLED: 'true',
    MEDIA_WORKERS: '1',
    SOCKET_EVENTS_PER_SECOND: '10000',
    CHAT_BURST: '100',
    MAX_CONNECTIONS_PER_IP: '10000',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOKS_ENABLED: 'false',
  });
  const { api } = s;
  const [owner, otherCreator, viewer, buyer, subscriber, moderator] = await Promise.all([
    api.register('creator'),
    api.register('creator'),
    api.register(),
    api.register(),
    api.register(),
    api.register(),
  ]);
  const [admin, demoted] = [await s.admin(), await s.admin()];
  Object.assign(accounts, { owner, otherCreator, viewer, buyer, subscriber, moderator, admin, demoted });
  [speaker, payer] = await Promise.all([api.register(), api.register()]);
  await Promise.all([...Object.values(accounts), speaker, payer].map((a) => api.topUp(a.token, 100_000)));
  const profile = await api.request('PATCH', '/api/creators/me', {
    token: owner.token,
    body: { subscriptionPrice: 300, subscriptionPeriodDays: 30 },
  });
  expect(profile.status).toBe(200);

  paidRoom = await ownerRoom({ access: 'ticket', ticketPrice: 700 }, 'live');
  subsRoom = await ownerRoom({ access: 'subscribers' }, 'live');
  freeRoom = await ownerRoom({ access: 'free' }, 'live');
  pastRoom = await ownerRoom({ access: 'ticket', ticketPrice: 400 });
  paidContent = await ownerContent();
  const notes = await api.request('PATCH', `/api/contents/${paidContent}`, {
    token: owner.token,
    body: { notes: NOTES },
  });
  expect(notes.status).toBe(200);
  ownerHook = await ownerWebhook();
  otherRoom = (await api.room(otherCreator.token, { access: 'free', record: false })).id;
  await api.post(`/api/rooms/${otherRoom}/start`, {}, otherCreator.token);
  const lessonVideo = await readyAsset('upload');
  await db().updateTable('contents').set({ media_asset_id: lessonVideo }).where('id', '=', paidContent).execute();

  const bought = (res: { status: number; body: any }) => {
    if (res.status !== 201) throw new Error(`setup purchase: ${res.status} ${JSON.stringify(res.body)}`);
  };
  for (const roomId of [paidRoom, pastRoom])
    bought(await api.post('/api/purchases', { roomId }, buyer.token, randomUUID()));
  bought(await api.post('/api/purchases', { contentId: paidContent }, buyer.token, randomUUID()));
  bought(await api.post('/api/purchases', { roomId: paidRoom }, speaker.token, randomUUID()));
  bought(await api.post('/api/subscriptions', { creatorId: owner.user.id }, subscriber.token, randomUUID()));

  // The owner appoints the moderator in each room, from inside it.
  sockets.owner = await connect(s.url, owner.token);
  for (const roomId of [paidRoom, subsRoom, freeRoom, pastRoom]) {
    await ok(sockets.owner, 'room:join', { roomId });
    await ok(sockets.owner, 'moderation:moderator', { roomId, userId: moderator.user.id, grant: true });
  }
  await ok(sockets.owner, 'room:leave', { roomId: pastRoom });
  await api.post(`/api/rooms/${pastRoom}/end`, {}, owner.token);
  const replay = await readyAsset('recording', pastRoom);
  await db().updateTable('rooms').set({ replay_asset_id: replay }).where('id', '=', pastRoom).execute();

  speakerSock = await connect(s.url, speaker.token);
  await ok(speakerSock, 'room:join', { roomId: paidRoom });

  // Every other subject's connection, in the three live rooms.
  for (const subject of SUBJECTS) {
    if (subject === 'owner') continue;
    sockets[subject] = await connect(s.url, token(subject));
    for (const roomId of [paidRoom, subsRoom, freeRoom]) await ok(sockets[subject], 'room:join', { roomId });
  }

  // The demoted admin: its connection had an admin's powers, then the role goes.
  const before = await ok(sockets.demoted, 'room:join', { roomId: paidRoom });
  expect(before.access).toBe('full');
  await ok(sockets.demoted, 'moderation:list', { roomId: paidRoom });
  const told = [paidRoom, subsRoom, freeRoom].map((roomId) =>
    next(sockets.demoted, 'role:changed', (p) => p.roomId === roomId),
  );
  const cutOff = [paidRoom, subsRoom].map((roomId) =>
    next(sockets.demoted, 'access:changed', (p) => p.roomId === roomId && p.access === 'none'),
  );
  await s.lectern.services.auth.setRole(demoted.user.username, 'viewer');
  for (const changed of await Promise.all(told)) expect(changed.role).toBe('viewer');
  await Promise.all(cutOff);
});

afterAll(async () => {
  console.log(
    JSON.stringify({
      permissionMatrix: {
        subjects: SUBJECTS.length,
        actions: ACTIONS.length,
        ...tally,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      },
    }),
  );
  closeAllSockets();
  await s?.close();
});

describe('the permission matrix: only the allowed cells succeed', () => {
  it.each(ACTIONS.map((a) => [a.name, a] as const))('%s', async (_name, action) => {
    const got = {} as Record<Subject, Outcome>;
    const want = {} as Record<Subject, Outcome>;
    for (const subject of SUBJECTS) {
      const cell = action.expected[subject];
      want[subject] = cell === true ? 'ok' : cell;
      got[subject] = await action.run(subject);
      tally.cells++;
      if (cell === true) tally.allowed++;
      else tally.denied++;
      if (got[subject] !== want[subject]) tally.mismatched++;
    }
    expect(got).toEqual(want);
  });
});
