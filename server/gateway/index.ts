import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Server } from 'socket.io';
import type { RoomLeftReason as ClientLeftReason, RoomJoinResult } from '../../protocol';
import type { AuthService } from '../auth';
import type { UserChanges, UserNow } from '../auth/user-changes';
import type { Config } from '../config';
import type { DB } from '../db';
import type { DomainEvents } from '../domain-events';
import { AppError } from '../errors';
import { type EngagementEvent, newEvent, type RoomLeftEvent, withCreatorId } from '../events';
import type { Logger } from '../log';
import type { MediaPlane } from '../media';
import type { PaymentsService } from '../payments';
import type { PollsService } from '../polls';
import { TokenBucketLimiter } from '../ratelimit';
import type { RoomsService } from '../rooms';
import { AccessPolicy, applyAccess } from './access';
import { type RoomAudience, roomAudience, type SuggestionFeedback } from './audience';
import { ChatManager } from './chat';
import { type GatewayContext, requireMember, requireUser } from './context';
import { Dispatcher, type Handlers } from './dispatch';
import { installHandshake, originAllowed } from './handshake';
import { LikeAggregator } from './likes';
import { MediaSignalling } from './media';
import { type Membership, Memberships } from './memberships';
import { ModerationManager } from './moderation';
import { PollsManager } from './polls';
import { LocalViewerCounts, Presence, RedisViewerCounts } from './presence';
import { QuestionsManager } from './questions';
import { guardRecovery } from './recovery-guard';
import { activeRestriction, RoomStateCache, roleIn } from './room-state';
import { TipsManager } from './tips';
import { accessChannel, type IoServer, type IoSocket, roomChannel, userChannel } from './types';
import { WatchClock } from './watch-time';

export type { AudienceMember, RoomAudience, SuggestionFeedback } from './audience';
export type { IoServer, IoSocket } from './types';

type RoomLeftReason = RoomLeftEvent['data']['reason'];

/** How many rooms one connection may be in at once. */
const MAX_ROOMS_PER_SOCKET = 10;
/** Members whose access is decided at once when a room goes live (each asks the database). */
const GO_LIVE_BATCH = 16;
/** How soon access that could not be decided is decided again. */
const ACCESS_RETRY_MS = 3000;

export interface GatewayDeps {
  config: Config;
  log: Logger;
  db: Kysely<DB>;
  /** Role changes and deleted accounts, as Postgres tells of them. */
  userChanges: UserChanges;
  auth: AuthService;
  rooms: RoomsService;
  payments: PaymentsService;
  polls: PollsService;
  events: DomainEvents;
  registry: Registry;
  /** With Redis: the Socket.IO Redis Streams adapter and cluster-wide viewer counts. */
  redis?: Redis;
  /** Where engagement events go (the event log's publisher). */
  record: (event: EngagementEvent) => void;
  /** This node's media plane (mediasoup workers). */
  media: MediaPlane;
  /** Where viewers' reactions to suggestions go (the recommender); set once it exists. */
  suggestions?: () => SuggestionFeedback | undefined;
}

export interface Gateway {
  readonly io: IoServer;
  readonly nodeId: string;
  /** Who is watching what on this node, for the recommender. */
  readonly audience: RoomAudience;
  /** Viewers of these rooms right now across the cluster (read-only; a few seconds stale at most). */
  viewerCounts(roomIds: string[]): Promise<Map<string, number>>;
  /** Disconnects every client and stops the managers. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The realtime gateway: Socket.IO on the HTTP server. Authentication at the handshake, one
 * manager per domain (chat, likes, tips, questions, moderation), presence and access per room,
 * and the glue that keeps several gateway processes consistent through the adapter.
 */
export function createGateway(httpServer: HttpServer, deps: GatewayDeps): Gateway {
  const { config, log, db } = deps;
  const nodeId = randomUUID();
  const io: IoServer = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: config.socketMaxPayloadBytes,
    allowRequest: (req, callback) => callback(null, originAllowed(config.allowedOrigins, req)),
    cors: { origin: config.allowedOrigins.includes('*') ? true : config.allowedOrigins },
    connectionStateRecovery: { maxDisconnectionDuration: config.recoveryWindowSeconds * 1000, skipMiddlewares: false },
    ...(deps.redis ? { adapter: createAdapter(deps.redis, { streamName: `${config.redisKeyPrefix}socket.io` }) } : {}),
  });

  /** Other gateway processes hear this through the adapter; a single node has nobody to tell. */
  const tellOtherNodes: IoServer['serverSideEmit'] = deps.redis ? (...args) => io.serverSideEmit(...args) : () => true;

  const cacheLookups = new Counter({
    name: 'lectern_gateway_cache_lookups_total',
    help: 'Lookups in the gateway short caches (room state, history, questions, …), by cache and outcome',
    labelNames: ['cache', 'outcome'],
    registers: [deps.registry],
  });
  const cacheLookup = (cache: string) => (hit: boolean) => cacheLookups.inc({ cache, outcome: hit ? 'hit' : 'miss' });

  const memberships = new Memberships();
  const roomStates = new RoomStateCache(db, deps.rooms, undefined, cacheLookup('room_state'));
  /** Owners (immutable) of the rooms entered here, so room events name their creator. Bounded. */
  const owners = new Map<string, string>();
  const ctx: GatewayContext = {
    io,
    db,
    config,
    log,
    payments: deps.payments,
    rooms: deps.rooms,
    memberships,
    roomStates,
    invalidateRoom(roomId) {
      roomStates.invalidate(roomId);
      tellOtherNodes('room:invalidate', { roomId });
    },
    record(event) {
      try {
        const owner = event.roomId && owners.get(event.roomId);
        deps.record(owner ? withCreatorId(event, owner) : event);
      } catch (err) {
        log.error({ err, type: event.type }, 'engagement event not recorded');
      }
    },
    cacheLookup,
  };
  const accessPolicy = new AccessPolicy(db, deps.payments);
  const presence = new Presence(
    io,
    memberships,
    deps.redis
      ? new RedisViewerCounts(
          deps.redis,
          nodeId,
          Math.max(5000, config.viewerCountIntervalMs * 5),
          config.redisKeyPrefix,
        )
      : new LocalViewerCounts(),
    config.viewerCountIntervalMs,
    log,
  );
  const watch = new WatchClock(memberships, ctx.record, config.watchHeartbeatSeconds);
  const media = new MediaSignalling(ctx, deps.media);
  const chat = new ChatManager(ctx);
  const likes = new LikeAggregator(ctx);
  const tips = new TipsManager(ctx);
  const questions = new QuestionsManager(ctx);
  const polls = new PollsManager(ctx, deps.polls);
  const moderation = new ModerationManager(ctx, {
    kick(roomId, userId) {
      kickLocal(roomId, userId);
      tellOtherNodes('room:kick', { roomId, userId });
    },
    recheckAccess(userId) {
      void recheckLocal(userId);
      tellOtherNodes('access:recheck', { userId });
    },
  });

  // --- metrics ---------------------------------------------------------------------------------
  const eventsHandled = new Counter({
    name: 'lectern_socket_events_total',
    help: 'Client events handled, by event and outcome (ok or error code)',
    labelNames: ['event', 'outcome'],
    registers: [deps.registry],
  });
  new Gauge({
    name: 'lectern_socket_connections',
    help: 'Open Socket.IO connections on this node',
    registers: [deps.registry],
    collect() {
      this.set(io.of('/').sockets.size);
    },
  });
  new Gauge({
    name: 'lectern_rooms_active',
    help: 'Rooms with at least one member on this node',
    registers: [deps.registry],
    collect() {
      this.set(memberships.roomIds().length);
    },
  });

  // --- membership ------------------------------------------------------------------------------
  async function onPreviewEnded(m: Membership): Promise<void> {
    try {
      const state = await roomStates.get(m.roomId);
      await reapplyAccess(m, state);
    } catch (err) {
      noAccessUntilDecided(m, err);
    }
  }

  /**
   * Access that cannot be decided (the database errs at a preview's or a subscription's end, or
   * after a refund or a ban) is no access — never the access the viewer had. It is decided again
   * a little later, and every few seconds until the database answers.
   */
  function noAccessUntilDecided(m: Membership, err: unknown): void {
    if (memberships.get(m.socket.id, m.roomId) !== m) return; // left meanwhile
    watch.beat(m);
    // Said once per member, not at every retry of an outage.
    const changed = applyAccess(m, { access: 'none' }, () => {});
    log[changed ? 'warn' : 'debug'](
      { err, roomId: m.roomId, userId: m.user?.id },
      'access not decided: none until it is',
    );
    if (changed) {
      syncAccessChannel(m);
      media.accessChanged(m);
      tellAccess(m);
    }
    m.accessTimer = setTimeout(() => void onPreviewEnded(m), ACCESS_RETRY_MS);
    m.accessTimer.unref();
  }

  async function reapplyAccess(m: Membership, state: Awaited<ReturnType<RoomStateCache['get']>>): Promise<void> {
    m.role = roleIn(state, m.user);
    const decision = await accessPolicy.decide(state, m.user);
    if (memberships.get(m.socket.id, m.roomId) !== m) return; // left meanwhile
    // Watch time so far counts at the access it had: a preview that ends keeps its last stretch,
    // and time without access before a purchase is not counted as watched.
    watch.beat(m);
    if (applyAccess(m, decision, (x) => void onPreviewEnded(x))) {
      syncAccessChannel(m);
      media.accessChanged(m);
      tellAccess(m);
    }
  }

  /** Members with access are in the room's access channel, where its conversation goes. */
  function syncAccessChannel(m: Membership): void {
    if (m.access === 'none') void m.socket.leave(accessChannel(m.roomId));
    else void m.socket.join(accessChannel(m.roomId));
  }

  function seenAccess(m: Membership) {
    return { access: m.access, ...(m.previewEndsAt ? { previewEndsAt: m.previewEndsAt.toISOString() } : {}) };
  }

  /** Sends `access:changed` and remembers it: a recovered connection is told what it missed. */
  function tellAccess(m: Membership): void {
    const seen = seenAccess(m);
    m.socket.data.accessSeen[m.roomId] = seen;
    m.socket.emit('access:changed', { roomId: m.roomId, ...seen });
  }

  async function recheckLocal(userId: string): Promise<void> {
    for (const m of memberships.ofUser(userId)) {
      try {
        roomStates.invalidate(m.roomId);
        await reapplyAccess(m, await roomStates.get(m.roomId));
      } catch (err) {
        noAccessUntilDecided(m, err);
      }
    }
  }

  /**
   * The room went live: its cached state goes, and the signed-in members without full access are
   * decided again (a viewer waiting in a paid room gets the free preview from now), a few at a time.
   */
  async function roomStartedLocal(roomId: string): Promise<void> {
    roomStates.invalidate(roomId);
    const waiting = memberships.inRoom(roomId).filter((m) => m.user && m.access !== 'full');
    if (waiting.length === 0) return;
    let state: Awaited<ReturnType<RoomStateCache['get']>>;
    try {
      state = await roomStates.get(roomId);
    } catch (err) {
      log.warn({ err, roomId }, 'access after going live not decided');
      return;
    }
    const decide = (m: Membership) =>
      reapplyAccess(m, state).catch((err) =>
        log.warn({ err, roomId, userId: m.user?.id }, 'access after going live not decided'),
      );
    for (let i = 0; i < waiting.length; i += GO_LIVE_BATCH) {
      await Promise.all(waiting.slice(i, i + GO_LIVE_BATCH).map(decide));
    }
  }

  function leaveLocal(socket: IoSocket, roomId: string, reason: RoomLeftReason): void {
    const m = memberships.remove(socket.id, roomId);
    socket.leave(roomChannel(roomId));
    socket.leave(accessChannel(roomId));
    socket.data.rooms = socket.data.rooms.filter((r) => r !== roomId);
    delete socket.data.accessSeen[roomId];
    if (m) left(m, reason);
  }

  /** Takes a connection out of a room on the server's initiative, and tells it why. */
  function removeLocal(socket: IoSocket, roomId: string, reason: ClientLeftReason): void {
    leaveLocal(socket, roomId, reason === 'ended' ? 'ended' : 'removed');
    socket.emit('room:left', { roomId, reason });
  }

  /** Bookkeeping when a member is gone: the last stretch of watch time, and the event. */
  function left(m: Membership, reason: RoomLeftReason): void {
    media.release(m);
    watch.beat(m);
    ctx.record(newEvent('room.left', { roomId: m.roomId, ...(m.user ? { userId: m.user.id } : {}), data: { reason } }));
  }

  function kickLocal(roomId: string, userId: string): void {
    for (const m of memberships.ofUser(userId)) if (m.roomId === roomId) removeLocal(m.socket, roomId, 'banned');
  }

  /**
   * A room ended: `room:ended` goes out once, cluster-wide, from the node where it ended, so the
   * adapter keeps it for connections that recover later; every node then clears the room locally.
   */
  function endRoom(roomId: string): void {
    io.to(roomChannel(roomId)).emit('room:ended', { roomId });
    tellOtherNodes('room:closed', { roomId });
    closeRoomLocal(roomId);
  }

  function closeRoomLocal(roomId: string): void {
    for (const m of memberships.inRoom(roomId)) leaveLocal(m.socket, roomId, 'ended');
    io.local.in(roomChannel(roomId)).socketsLeave([roomChannel(roomId), accessChannel(roomId)]);
    roomStates.invalidate(roomId);
    presence.forget(roomId);
    media.roomClosed(roomId);
    owners.delete(roomId);
  }

  /**
   * Runs one connection's joins and leaves one at a time, in the order they came: two joins in
   * flight would both pass the room cap and both create a membership.
   */
  const roomQueues = new WeakMap<IoSocket, Promise<unknown>>();
  function serialRoomOp<T>(socket: IoSocket, op: () => Promise<T>): Promise<T> {
    const run = (roomQueues.get(socket) ?? Promise.resolve()).then(op);
    roomQueues.set(
      socket,
      run.catch(() => {}),
    );
    return run;
  }

  /** Enters (or refreshes) a room for a connection; shared by `room:join` and recovery. */
  async function enter(socket: IoSocket, roomId: string) {
    const user = socket.data.user;
    const state = await roomStates.open(roomId);
    if (user && activeRestriction(state, user.id, 'ban')) throw new AppError('BANNED', 'you are banned from this room');
    const existing = memberships.get(socket.id, roomId);
    if (!existing && socket.data.rooms.filter((r) => r !== roomId).length >= MAX_ROOMS_PER_SOCKET) {
      throw new AppError('INVALID_ARGUMENT', `a connection can be in at most ${MAX_ROOMS_PER_SOCKET} rooms`);
    }
    const decision = await accessPolicy.decide(state, user);
    if (!socket.connected) throw new AppError('UNAVAILABLE', 'disconnected');
    // Into the channel first, then counted: whoever counts this member can also reach it.
    await socket.join(roomChannel(roomId));
    if (!socket.data.rooms.includes(roomId)) socket.data.rooms = [...socket.data.rooms, roomId];
    const m: Membership = existing ?? {
      socket,
      roomId,
      user,
      role: roleIn(state, user),
      access: 'none',
      joinedAt: Date.now(),
    };
    m.role = roleIn(state, user);
    if (existing) watch.beat(m); // the time so far counts at the access it had
    applyAccess(m, decision, (x) => void onPreviewEnded(x));
    syncAccessChannel(m);
    memberships.add(m);
    if (owners.size >= 100_000 && !owners.has(roomId)) owners.delete(owners.keys().next().value!);
    owners.set(roomId, state.room.ownerId);
    if (!existing) {
      // A new presence: a join, or a resumed connection whose disconnect ended the previous one.
      watch.start(m);
      ctx.record(newEvent('room.joined', { roomId, ...(user ? { userId: user.id } : {}), data: { access: m.access } }));
    }
    // The room may have ended, or this user been banned, while access was being decided: that
    // cleared the room before this member was in it. Both drop the cached state, so this sees it.
    const now = await roomStates.get(roomId);
    if (now.room.status === 'ended') {
      leaveLocal(socket, roomId, 'ended');
      throw new AppError('CONFLICT', 'this room has ended');
    }
    if (user && activeRestriction(now, user.id, 'ban')) {
      leaveLocal(socket, roomId, 'removed');
      throw new AppError('BANNED', 'you are banned from this room');
    }
    if (memberships.get(socket.id, roomId) !== m) throw new AppError('UNAVAILABLE', 'left the room while joining');
    // It went live while access was decided on its scheduled state (and perhaps before the
    // go-live pass saw this member): decide again, so the preview starts now.
    if (state.room.status !== 'live' && now.room.status === 'live') await reapplyAccess(m, now);
    return { state: now, membership: m };
  }

  async function join(socket: IoSocket, roomId: string): Promise<RoomJoinResult> {
    const { state, membership: m } = await enter(socket, roomId);
    // Without access a viewer sees the room's card and counts, not its conversation.
    const inside = m.access !== 'none';
    const [history, openQuestions, answeredQuestions, leaderboard, pinned, likesTotal, openPolls] = await Promise.all([
      inside ? chat.history.recent(roomId) : [],
      inside ? questions.list(roomId) : [],
      inside ? questions.answered(roomId) : [],
      tips.leaderboard(roomId),
      inside ? tips.pinned(roomId) : [],
      likes.total(roomId),
      inside ? polls.open(roomId, socket.data.user?.id) : [],
    ]);
    socket.data.accessSeen[roomId] = seenAccess(m);
    const muted = m.user ? activeRestriction(state, m.user.id, 'mute')?.until : undefined;
    return {
      room: state.room,
      viewerCount: presence.count(roomId),
      history,
      access: m.access,
      ...(m.previewEndsAt ? { previewEndsAt: m.previewEndsAt.toISOString() } : {}),
      role: m.role,
      likesTotal,
      questions: openQuestions,
      answeredQuestions,
      leaderboard,
      pinned,
      polls: openPolls,
      ...(muted ? { mutedUntil: muted.toISOString() } : {}),
    };
  }

  /**
   * After a recovered reconnect: restores this node's bookkeeping for a room, tells the client of
   * an access change it missed (per-connection events are not replayed), or why it is out.
   */
  async function restore(socket: IoSocket, roomId: string): Promise<void> {
    const before = socket.data.accessSeen[roomId];
    try {
      const { membership: m } = await enter(socket, roomId);
      const after = seenAccess(m);
      if (before?.access !== after.access || before?.previewEndsAt !== after.previewEndsAt) tellAccess(m);
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      if (code !== 'INTERNAL' && code !== 'UNAVAILABLE') log.debug({ code, roomId }, 'room not restored');
      else log.warn({ err, roomId }, 'room not restored');
      const reason =
        code === 'BANNED' ? 'banned' : code === 'CONFLICT' || code === 'NOT_FOUND' ? 'ended' : 'unavailable';
      removeLocal(socket, roomId, reason);
    }
  }

  // --- events from clients ---------------------------------------------------------------------
  // A signed-in user's connections share one budget, so reconnecting never buys a fresh burst.
  // A guest connection has its own, inside a budget for its address sized for the connections
  // that address may open (a classroom behind one NAT is not one client).
  const rate = config.socketEventsPerSecond;
  const eventBudget = new TokenBucketLimiter(rate * 3, rate);
  const addressBudget = new TokenBucketLimiter(
    rate * 3 * config.maxConnectionsPerIp,
    rate * config.maxConnectionsPerIp,
  );
  const budgetKey = (socket: IoSocket) => (socket.data.user ? `u:${socket.data.user.id}` : `s:${socket.id}`);
  function admit(socket: IoSocket) {
    const own = eventBudget.take(budgetKey(socket));
    if (!own.ok || socket.data.user) return own;
    return addressBudget.take(socket.data.address);
  }

  const restoring = new WeakMap<IoSocket, Promise<void>>();
  // Every client event of the protocol has its handler here: the table is a mapped type over the
  // protocol's events, so an event without a handler does not compile.
  const handlers: Handlers = {
    'room:join': (socket, p) => serialRoomOp(socket, () => join(socket, p.roomId)),
    'room:leave': (socket, p) =>
      serialRoomOp(socket, async () => {
        leaveLocal(socket, p.roomId, 'left');
        return {};
      }),
    'chat:send': (socket, p) => chat.send(socket, p.roomId, p.text),
    'chat:delete': (socket, p) => chat.delete(socket, p.roomId, p.messageId),
    'poll:create': (socket, p) => polls.create(socket, p),
    'poll:vote': (socket, p) => polls.vote(socket, p),
    'poll:close': (socket, p) => polls.closePoll(socket, p),
    'like:send': async (socket, p) => likes.add(socket, p.roomId, p.count),
    'tip:send': (socket, p) => tips.send(socket, p),
    'purchase:create': (socket, p) => tips.purchase(socket, p),
    'subscription:create': (socket, p) => tips.subscribe(socket, p),
    'question:ask': (socket, p) => questions.ask(socket, p.roomId, p.text),
    'question:upvote': (socket, p) => questions.upvote(socket, p.roomId, p.questionId),
    'question:answer': (socket, p) => questions.answer(socket, p.roomId, p.questionId),
    'moderation:mute': (socket, p) => moderation.mute(socket, p),
    'moderation:unmute': (socket, p) => moderation.apply(socket, 'unmute', p),
    'moderation:ban': (socket, p) => moderation.apply(socket, 'ban', p),
    'moderation:unban': (socket, p) => moderation.apply(socket, 'unban', p),
    'moderation:settings': (socket, p) => moderation.settings(socket, p.roomId, p.settings),
    'moderation:moderator': (socket, p) => moderation.setModerator(socket, p),
    'moderation:list': (socket, p) => moderation.list(socket, p.roomId),
    'media:join': (socket, p) => media.join(socket, p.roomId),
    'media:transport:create': (socket, p) => media.createTransport(socket, p.roomId, p.direction),
    'media:transport:connect': (socket, p) => media.connectTransport(socket, p.roomId, p.transportId, p.dtlsParameters),
    'media:transport:restart-ice': (socket, p) => media.restartIce(socket, p.roomId, p.transportId),
    'media:produce': (socket, p) => media.produce(socket, p),
    'media:producer:pause': (socket, p) => media.producer(socket, p.roomId, p.producerId, 'pause'),
    'media:producer:resume': (socket, p) => media.producer(socket, p.roomId, p.producerId, 'resume'),
    'media:producer:close': (socket, p) => media.producer(socket, p.roomId, p.producerId, 'close'),
    'media:consume': (socket, p) => media.consume(socket, p),
    'media:consumer:resume': (socket, p) => media.consumer(socket, p.roomId, p.consumerId, 'resume'),
    'media:consumer:pause': (socket, p) => media.consumer(socket, p.roomId, p.consumerId, 'pause'),
    'media:consumer:layers': (socket, p) =>
      media.consumer(socket, p.roomId, p.consumerId, { spatialLayer: p.spatialLayer, temporalLayer: p.temporalLayer }),
    'media:leave': async (socket, p) => media.leave(socket, p.roomId),
    'suggestion:click': (socket, p) => suggestionFeedback(socket, p.roomId, p.contentId, 'click'),
    'suggestion:dismiss': (socket, p) => suggestionFeedback(socket, p.roomId, p.contentId, 'dismiss'),
  };
  const dispatcher = new Dispatcher(handlers, admit, log, {
    onOutcome: (event, outcome) => eventsHandled.inc({ event, outcome }),
    ready: (socket) => restoring.get(socket),
  });

  async function suggestionFeedback(socket: IoSocket, roomId: string, contentId: string, action: 'click' | 'dismiss') {
    const user = requireUser(socket);
    requireMember(ctx, socket, roomId);
    await deps.suggestions?.()?.feedback({ userId: user.id, roomId, contentId, action });
    return {};
  }

  installHandshake(io, deps.auth, config);
  // A connection holds its user's role as it is now, not as it was at the handshake: a demoted
  // admin stops moderating, a deleted account is disconnected (on every node, at once).
  deps.userChanges.watch({
    users: () => [...io.of('/').sockets.values()].flatMap((sock) => (sock.data.user ? [sock.data.user.id] : [])),
    changed: (userId, now) => void userChanged(userId, now),
  });
  async function userChanged(userId: string, now: UserNow): Promise<void> {
    // This user's connections here: the members of their own channel.
    const sockets = [...(io.of('/').adapter.rooms.get(userChannel(userId)) ?? [])].flatMap((id) => {
      const socket = io.of('/').sockets.get(id);
      return socket?.data.user ? [socket] : [];
    });
    if (!now) {
      for (const socket of sockets) socket.disconnect(true);
      return;
    }
    const changed = new Set(sockets.filter((socket) => socket.data.user!.role !== now.role));
    // The same object every membership of the connection holds.
    for (const socket of changed) socket.data.user!.role = now.role;
    for (const m of memberships.ofUser(userId)) {
      if (!changed.has(m.socket)) continue;
      const before = m.role;
      try {
        await reapplyAccess(m, await roomStates.get(m.roomId));
      } catch (err) {
        noAccessUntilDecided(m, err);
      }
      if (m.role !== before) m.socket.emit('role:changed', { roomId: m.roomId, role: m.role });
    }
  }
  // A resumed connection gets back only the channels its user may still be in (see restore()).
  guardRecovery(
    io,
    async (session) => {
      const { user, rooms = [] } = session.data as Partial<IoSocket['data']>;
      const drop = new Set<string>();
      for (const roomId of rooms) {
        try {
          const state = await roomStates.get(roomId);
          if (user && activeRestriction(state, user.id, 'ban')) {
            drop.add(roomChannel(roomId)).add(accessChannel(roomId));
          } else if ((await accessPolicy.decide(state, user ?? null)).access === 'none') {
            drop.add(accessChannel(roomId));
          }
        } catch {
          // Not decided: nothing of that room comes back (restore() decides again, or says so).
          drop.add(roomChannel(roomId)).add(accessChannel(roomId));
        }
      }
      return drop;
    },
    log,
  );
  io.on('connection', (socket) => {
    if (socket.data.user) void socket.join(userChannel(socket.data.user.id));
    dispatcher.attach(socket);
    if (socket.recovered) {
      // The connection resumed within the recovery window: Socket.IO restored its channels and
      // data; restore this node's bookkeeping (presence, access timers) for those rooms before
      // handling the events the client queued while it was away.
      const restored = Promise.all(socket.data.rooms.map((roomId) => restore(socket, roomId))).then(() => {
        restoring.delete(socket);
      });
      restoring.set(socket, restored);
    }
    socket.on('disconnect', () => {
      for (const roomId of socket.data.rooms) {
        const m = memberships.remove(socket.id, roomId);
        if (m) left(m, 'disconnected');
      }
      // This connection's budget goes with it; a user's or an address's only once refilled.
      eventBudget.forget(budgetKey(socket), !socket.data.user);
      if (!socket.data.user) addressBudget.forget(socket.data.address);
    });
  });

  // --- other nodes -----------------------------------------------------------------------------
  io.on('room:invalidate', ({ roomId }) => roomStates.invalidate(roomId));
  io.on('access:recheck', ({ userId }) => void recheckLocal(userId));
  io.on('room:kick', ({ roomId, userId }) => kickLocal(roomId, userId));
  io.on('room:closed', ({ roomId }) => closeRoomLocal(roomId));
  io.on('room:started', ({ roomId }) => void roomStartedLocal(roomId));

  // --- the domain --------------------------------------------------------------------------------
  const unsubscribe = [
    // Every node decides its members' access again: free previews start when the room goes live.
    deps.events.on('room.started', ({ room }) => {
      // `room:invalidate` too: a node of the previous version (mid-deploy) at least drops its copy.
      ctx.invalidateRoom(room.id);
      tellOtherNodes('room:started', { roomId: room.id });
      void roomStartedLocal(room.id);
    }),
    deps.events.on('room.updated', ({ room }) => ctx.invalidateRoom(room.id)),
    deps.events.on('room.ended', ({ room }) => endRoom(room.id)),
    deps.events.on('tip.created', ({ tip }) =>
      tips.announce(tip).catch((err) => log.warn({ err, roomId: tip.roomId }, 'tip announcement failed')),
    ),
    // The creator's sales feed, on every connection of theirs (the adapter reaches other nodes).
    deps.events.on('tip.created', async ({ tip, creatorId }) => {
      const roomTitle = (await ctx.roomStates.get(tip.roomId).catch(() => undefined))?.room.title;
      io.to(userChannel(creatorId)).emit('sale:new', await deps.payments.saleNotice({ tip, roomTitle }));
    }),
    deps.events.on('purchase.completed', async (sale) => {
      io.to(userChannel(sale.purchase.creatorId)).emit('sale:new', await deps.payments.saleNotice(sale));
    }),
    ...(['purchase.completed', 'purchase.refunded'] as const).map((event) =>
      deps.events.on(event, ({ purchase }) => {
        if (purchase.kind === 'content') return;
        void recheckLocal(purchase.buyerId);
        tellOtherNodes('access:recheck', { userId: purchase.buyerId });
      }),
    ),
  ];

  let closing: Promise<void> | undefined;
  return {
    io,
    nodeId,
    audience: roomAudience(io, memberships),
    viewerCounts: (roomIds) => presence.totals(roomIds),
    close: () =>
      (closing ??= (async () => {
        for (const off of unsubscribe) off();
        questions.close();
        polls.stop();
        tips.close();
        media.close();
        watch.close();
        await likes.close();
        await presence.close();
        io.disconnectSockets(true);
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await chat.close();
      })()),
  };
}
