import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { Server } from 'socket.io';
import { isErrorCode, type RoomJoinResult } from '../../protocol';
import type { AuthService } from '../auth';
import type { UserChanges, UserNow } from '../auth/user-changes';
import type { Config } from '../config';
import type { DB } from '../db';
import type { DomainEvents } from '../domain-events';
import { type EngagementEvent, withCreatorId } from '../events';
import type { Logger } from '../log';
import type { MediaPlane } from '../media';
import { errorCounter } from '../metrics';
import type { PaymentsService } from '../payments';
import type { PollsService } from '../polls';
import { TokenBucketLimiter } from '../ratelimit';
import type { RoomsService } from '../rooms';
import { AccessPolicy } from './access';
import { installAdminUi } from './admin-ui';
import { type RoomAudience, roomAudience, type SuggestionFeedback } from './audience';
import { ChatManager } from './chat';
import { clusterAdapter } from './cluster-adapter';
import { type GatewayContext, requireMember, requireUser } from './context';
import { Dispatcher, type Handlers } from './dispatch';
import { fastBroadcasts } from './frames';
import { installHandshake, originAllowed } from './handshake';
import { LikeAggregator } from './likes';
import { MediaSignalling } from './media';
import { Memberships } from './memberships';
import { ModerationManager } from './moderation';
import { PollsManager } from './polls';
import { LocalViewerCounts, Presence, RedisViewerCounts } from './presence';
import { QuestionsManager } from './questions';
import { capRecovery, guardRecovery } from './recovery-guard';
import { RoomOwners, RoomSessions } from './room-sessions';
import { activeRestriction, RoomStateCache } from './room-state';
import { SalesFeed } from './sales';
import { TipsManager } from './tips';
import { type IoServer, type IoSocket, userChannel } from './types';
import { WatchClock } from './watch-time';

export type { AudienceMember, RoomAudience, SuggestionFeedback } from './audience';
export type { IoServer, IoSocket } from './types';

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
    // Engine.IO's default, said out loud: compressing would deflate every broadcast once per
    // recipient instead of sending the frame built once (docs/benchmarks.md).
    perMessageDeflate: false,
    ...(deps.redis ? { adapter: clusterAdapter(deps.redis, config.redisKeyPrefix, config.recoveryMaxBroadcasts) } : {}),
  });
  fastBroadcasts(io);
  if (!deps.redis) capRecovery(io, config.recoveryMaxBroadcasts);

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
  const roomStates = new RoomStateCache(deps.rooms, undefined, cacheLookup('room_state'));
  const owners = new RoomOwners();
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
  const accessPolicy = new AccessPolicy(deps.rooms, deps.payments);
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
  const tips = new TipsManager(ctx, Boolean(deps.redis));
  const sales = new SalesFeed(io, Boolean(deps.redis));
  const questions = new QuestionsManager(ctx);
  const polls = new PollsManager(ctx, deps.polls);
  const moderation = new ModerationManager(ctx, {
    kick(roomId, userId) {
      sessions.kick(roomId, userId);
      tellOtherNodes('room:kick', { roomId, userId });
    },
    recheckAccess: (userId) => recheckEverywhere(userId),
  });

  // --- metrics ---------------------------------------------------------------------------------
  const eventsHandled = new Counter({
    name: 'lectern_socket_events_total',
    help: 'Client events handled, by event and outcome (ok or error code)',
    labelNames: ['event', 'outcome'],
    registers: [deps.registry],
  });
  const ackSeconds = new Histogram({
    name: 'lectern_socket_ack_duration_seconds',
    help: 'Time from a client event arriving to its ack (validation, handler and all), by event',
    labelNames: ['event'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.registry],
  });
  const errors = errorCounter(deps.registry);
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
  const sessions = new RoomSessions(ctx, {
    policy: accessPolicy,
    watch,
    media,
    owners,
    forgetRoom: (roomId) => presence.forget(roomId),
  });

  /** A room ended: every node tells its members and clears the room. */
  function endRoom(roomId: string): void {
    tellOtherNodes('room:closed', { roomId });
    sessions.closeRoom(roomId);
  }

  /** A purchase, refund or ban changed what this user may see: decided again on every node. */
  function recheckEverywhere(userId: string): void {
    void sessions.recheckUser(userId);
    tellOtherNodes('access:recheck', { userId });
  }

  async function join(socket: IoSocket, roomId: string): Promise<RoomJoinResult> {
    const { state, membership: m } = await sessions.enter(socket, roomId);
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
    sessions.remember(m);
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
    'room:join': (socket, p) => sessions.serial(socket, () => join(socket, p.roomId)),
    'room:leave': (socket, p) =>
      sessions.serial(socket, async () => {
        sessions.leave(socket, p.roomId, 'left');
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
    onOutcome(event, outcome, seconds) {
      eventsHandled.inc({ event, outcome });
      if (seconds !== undefined) ackSeconds.observe({ event }, seconds);
      if (isErrorCode(outcome)) errors.inc({ transport: 'socket', code: outcome });
    },
    ready: (socket) => restoring.get(socket),
  });

  async function suggestionFeedback(socket: IoSocket, roomId: string, contentId: string, action: 'click' | 'dismiss') {
    const user = requireUser(socket);
    requireMember(ctx, socket, roomId);
    await deps.suggestions?.()?.feedback({ userId: user.id, roomId, contentId, action });
    return {};
  }

  installHandshake(io, deps.auth, config);
  installAdminUi(io, config, log);
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
      await sessions.recheckUser(userId, [m]);
      if (m.role !== before) m.socket.emit('role:changed', { roomId: m.roomId, role: m.role });
    }
  }
  // A resumed connection gets back only the channels its user may still be in (see restore()).
  guardRecovery(
    io,
    (session) => {
      const { user, rooms = [] } = session.data as Partial<IoSocket['data']>;
      return sessions.channelsToDrop(user, rooms);
    },
    log,
  );
  io.on('connection', (socket) => {
    if (socket.data.user) {
      void socket.join(userChannel(socket.data.user.id));
      sales.connected(socket, socket.data.user.id);
    }
    dispatcher.attach(socket);
    if (socket.recovered) {
      // The connection resumed within the recovery window: Socket.IO restored its channels and
      // data; restore this node's bookkeeping (presence, access timers) for those rooms before
      // handling the events the client queued while it was away.
      const restored = Promise.all(socket.data.rooms.map((roomId) => sessions.restore(socket, roomId))).then(() => {
        restoring.delete(socket);
      });
      restoring.set(socket, restored);
    }
    socket.on('disconnect', () => {
      sessions.disconnected(socket);
      // This connection's budget goes with it; a user's or an address's only once refilled.
      eventBudget.forget(budgetKey(socket), !socket.data.user);
      if (!socket.data.user) addressBudget.forget(socket.data.address);
    });
  });

  // --- other nodes -----------------------------------------------------------------------------
  io.on('room:invalidate', ({ roomId }) => roomStates.invalidate(roomId));
  io.on('access:recheck', ({ userId }) => void sessions.recheckUser(userId));
  io.on('room:kick', ({ roomId, userId }) => sessions.kick(roomId, userId));
  io.on('room:closed', ({ roomId }) => sessions.closeRoom(roomId));
  io.on('room:started', ({ roomId }) => void sessions.roomStarted(roomId));

  // --- the domain --------------------------------------------------------------------------------
  const unsubscribe = [
    // Every node decides its members' access again: free previews start when the room goes live.
    deps.events.on('room.started', ({ room }) => {
      // `room:invalidate` too: a node of the previous version (mid-deploy) at least drops its copy.
      ctx.invalidateRoom(room.id);
      tellOtherNodes('room:started', { roomId: room.id });
      void sessions.roomStarted(room.id);
    }),
    deps.events.on('room.updated', ({ room }) => ctx.invalidateRoom(room.id)),
    deps.events.on('room.ended', ({ room }) => endRoom(room.id)),
    deps.events.on('tip.created', ({ tip }) =>
      tips.announce(tip).catch((err) => log.warn({ err, roomId: tip.roomId }, 'tip announcement failed')),
    ),
    // The creator's sales feed.
    deps.events.on('tip.created', async ({ tip, creatorId }) => {
      const roomTitle = (await ctx.roomStates.get(tip.roomId).catch(() => undefined))?.room.title;
      sales.push(creatorId, await deps.payments.saleNotice({ tip, roomTitle }));
    }),
    deps.events.on('purchase.completed', async (sale) => {
      sales.push(sale.purchase.creatorId, await deps.payments.saleNotice(sale));
    }),
    ...(['purchase.completed', 'purchase.refunded'] as const).map((event) =>
      deps.events.on(event, ({ purchase }) => {
        if (purchase.kind === 'content') return;
        recheckEverywhere(purchase.buyerId);
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
        sales.close();
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
