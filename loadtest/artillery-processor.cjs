'use strict';
/**
 * Functions for loadtest/artillery.yml: a live room to load (once, in the `before` flow) and an
 * account per virtual user, both through Lectern's HTTP API. Callback style, as the Socket.IO
 * engine's HTTP delegate (Artillery 1 core) expects.
 */
const { randomBytes } = require('node:crypto');

const PASSWORD = 'artillery-password';

async function post(base, path, body, token) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) {
    const hint =
      res.status === 429
        ? ' (every virtual user comes from one address: raise AUTH_RATE_LIMIT_PER_MINUTE and HTTP_RATE_LIMIT_PER_MINUTE)'
        : '';
    throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 200)}${hint}`);
  }
  return JSON.parse(text);
}

const register = (base, role) =>
  post(base, '/api/auth/register', {
    username: `art_${role[0]}_${randomBytes(8).toString('hex')}`,
    password: PASSWORD,
    role,
  });

/** The `before` flow: a free live room, unless `roomId` was given with --variables. */
function createRoom(context, _events, done) {
  if (context.vars.roomId) return done();
  const base = context.vars.target;
  (async () => {
    const creator = await register(base, 'creator');
    const { room } = await post(
      base,
      '/api/rooms',
      { title: 'Artillery room', access: 'free', record: false },
      creator.token,
    );
    await post(base, `/api/rooms/${room.id}/start`, {}, creator.token);
    context.vars.roomId = room.id;
  })().then(() => done(), done);
}

/** Each virtual user: its own viewer account; the token goes into the Socket.IO handshake. */
function signUpViewer(context, events, done) {
  register(context.vars.target, 'viewer').then(
    (session) => {
      context.vars.token = session.token;
      events.emit('counter', 'lectern.viewers_registered', 1);
      done();
    },
    (err) => {
      events.emit('counter', 'lectern.registration_failed', 1);
      done(err);
    },
  );
}

/** After an emit step: its ack came back and matched `ok: true` (else the user failed there). */
function countAck(_context, events, done) {
  events.emit('counter', 'lectern.acks', 1);
  done();
}

module.exports = { createRoom, signUpViewer, countAck };
