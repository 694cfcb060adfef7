import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { mediaDir, probeJson } from './helpers/media-files';
import { type Account, startTestServer, type TestServer } from './helpers/server';
import { closeAllSockets, connect, eventually, ok } from './helpers/socket';

/**
 * Creators' public profiles (links, avatar) and rooms planned ahead (start time, description,
 * cover), listed as upcoming soonest first and, while live, with how many are watching.
 */
let s: TestServer;
let creator: Account;
let other: Account;
let viewer: Account;
let media: ReturnType<typeof mediaDir>;
let png: Buffer;
const COVER_MAX_BYTES = 400_000;

beforeAll(async () => {
  media = mediaDir();
  s = await startTestServer({ MEDIA_COVER_MAX_BYTES: String(COVER_MAX_BYTES) });
  [creator, other, viewer] = await Promise.all([
    s.api.register('creator'),
    s.api.register('creator'),
    s.api.register('viewer'),
  ]);
  const file = media.file('picture.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1600x900', '-frames:v', '1', file]);
  png = readFileSync(file);
});
afterEach(closeAllSockets);
afterAll(async () => {
  await s?.close();
  media?.cleanup();
});

const upload = (path: string, token: string | undefined, body: Buffer | string, type = 'image/png') =>
  s.api.request('POST', path, { token, raw: body as unknown as string, headers: { 'content-type': type } });
const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();
const ids = (rooms: { id: string }[]) => rooms.map((r) => r.id);

/** Width and height of a served JPEG, by ffprobe. */
async function imageSize(url: string): Promise<{ width: number; height: number }> {
  const file = media.file(`served-${Date.now()}.jpg`);
  const res = await fetch(`${s.url}${url}`);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const { streams } = await probeJson(file);
  return { width: streams[0].width, height: streams[0].height };
}

describe('creator profiles', () => {
  it('start with a display name, no avatar and no links', async () => {
    const res = await s.api.get(`/api/creators/${creator.user.id}`);
    expect(res.body.profile).toMatchObject({
      userId: creator.user.id,
      displayName: creator.user.username,
      avatarUrl: null,
      links: [],
    });
    expect((await s.api.get(`/api/creators/${viewer.user.id}`)).status).toBe(404);
  });

  it('take a bio, a display name and up to five http(s) links, normalised', async () => {
    const res = await s.api.request('PATCH', '/api/creators/me', {
      token: creator.token,
      body: {
        displayName: '  Dr. Ada  ',
        bio: 'Numerical analysis, live every Tuesday.',
        links: [
          { label: 'Website', url: 'https://ada.example' },
          { label: ' Notes ', url: 'http://notes.example/a b' },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.profile).toMatchObject({
      displayName: 'Dr. Ada',
      bio: 'Numerical analysis, live every Tuesday.',
      links: [
        { label: 'Website', url: 'https://ada.example/' },
        { label: 'Notes', url: 'http://notes.example/a%20b' },
      ],
    });
    // Fields left out stay; the subscription price is untouched by a profile edit.
    const again = await s.api.request('PATCH', '/api/creators/me', {
      token: creator.token,
      body: { bio: 'Tuesdays.' },
    });
    expect(again.body.profile).toMatchObject({ displayName: 'Dr. Ada', bio: 'Tuesdays.' });
    expect(again.body.profile.links).toHaveLength(2);
    expect((await s.api.get(`/api/creators/${creator.user.id}`)).body.profile).toEqual(again.body.profile);
    // An empty list removes them.
    const cleared = await s.api.request('PATCH', '/api/creators/me', { token: other.token, body: { links: [] } });
    expect(cleared.body.profile.links).toEqual([]);
  });

  it.each([
    ['six links', { links: Array.from({ length: 6 }, (_, i) => ({ label: `l${i}`, url: `https://x.example/${i}` })) }],
    ['a javascript: URL', { links: [{ label: 'x', url: 'javascript:alert(1)' }] }],
    ['a data: URL', { links: [{ label: 'x', url: 'data:text/html,hi' }] }],
    ['a relative URL', { links: [{ label: 'x', url: '/somewhere' }] }],
    ['credentials in the URL', { links: [{ label: 'x', url: 'https://user:pw@x.example' }] }],
    ['an empty label', { links: [{ label: '  ', url: 'https://x.example' }] }],
    ['a long label', { links: [{ label: 'x'.repeat(41), url: 'https://x.example' }] }],
    ['an unknown field', { links: [{ label: 'x', url: 'https://x.example', icon: 'star' }] }],
    ['an empty display name', { displayName: '   ' }],
  ])('refuses %s', async (_what, body) => {
    const res = await s.api.request('PATCH', '/api/creators/me', { token: other.token, body });
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it('a viewer has no profile to edit', async () => {
    const res = await s.api.request('PATCH', '/api/creators/me', { token: viewer.token, body: { bio: 'me' } });
    expect(res.status).toBe(403);
  });
});

describe('avatars', () => {
  it('are re-encoded to a JPEG within 512×512, served publicly as immutable; a new one replaces the old', async () => {
    const res = await upload('/api/creators/me/avatar', creator.token, png);
    expect(res.status).toBe(201);
    const url: string = res.body.profile.avatarUrl;
    expect(url).toMatch(new RegExp(`^/media/public/avatars/${creator.user.id}/[a-z0-9]+\\.jpg$`));
    const served = await fetch(`${s.url}${url}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('etag')).toBeTruthy();
    expect(await imageSize(url)).toEqual({ width: 512, height: 288 });
    expect((await s.api.get(`/api/creators/${creator.user.id}`)).body.profile.avatarUrl).toBe(url);

    // Versioned keys: the new picture has a URL of its own and the old one is gone.
    await new Promise((r) => setTimeout(r, 5));
    const replaced = await upload('/api/creators/me/avatar', creator.token, png);
    expect(replaced.status).toBe(201);
    expect(replaced.body.profile.avatarUrl).not.toBe(url);
    expect((await fetch(`${s.url}${url}`)).status).toBe(404);
    expect((await fetch(`${s.url}${replaced.body.profile.avatarUrl}`)).status).toBe(200);
  });

  it('are checked by their bytes and size, whatever the request claims', async () => {
    const before = (await s.api.get(`/api/creators/${other.user.id}`)).body.profile.avatarUrl;
    const script = await upload('/api/creators/me/avatar', other.token, '<svg onload="alert(1)"/>');
    expect([script.status, script.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const pdf = await upload('/api/creators/me/avatar', other.token, '%PDF-1.4\n%%EOF\n');
    expect(pdf.status).toBe(400);
    // A PNG signature with nothing decodable behind it.
    const fake = Buffer.concat([png.subarray(0, 16), Buffer.alloc(2000, 7)]);
    expect((await upload('/api/creators/me/avatar', other.token, fake)).status).toBe(400);
    const wrongType = await upload('/api/creators/me/avatar', other.token, png, 'text/plain');
    expect(wrongType.status).toBe(400);
    const huge = await upload('/api/creators/me/avatar', other.token, Buffer.alloc(COVER_MAX_BYTES + 1000, 1));
    expect([huge.status, huge.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect((await s.api.get(`/api/creators/${other.user.id}`)).body.profile.avatarUrl).toBe(before);
    expect(await s.lectern.store.list(`public/avatars/${other.user.id}/`)).toEqual([]);
  });

  it('are for creators, signed in', async () => {
    expect((await upload('/api/creators/me/avatar', viewer.token, png)).status).toBe(403);
    expect((await upload('/api/creators/me/avatar', undefined, png)).status).toBe(401);
  });

  it('the public route serves only image keys it knows', async () => {
    for (const path of [
      '/media/public/avatars/../covers/x.jpg',
      `/media/public/avatars/${creator.user.id}/x.png`,
      `/media/public/secrets/${creator.user.id}/x.jpg`,
      `/media/public/avatars/${creator.user.id}/nothere.jpg`,
    ]) {
      expect([path, (await fetch(`${s.url}${path}`)).status]).toEqual([path, 404]);
    }
  });
});

describe('scheduled rooms', () => {
  it('are created with a start time and a description, changed while scheduled, fixed once live', async () => {
    const at = inHours(24);
    const room = await s.api.room(creator.token, {
      title: 'Root finding',
      access: 'ticket',
      ticketPrice: 500,
      previewSeconds: 60,
      scheduledAt: at,
      description: 'Newton, secant and bisection, with live questions.',
    });
    expect(room).toMatchObject({
      status: 'scheduled',
      scheduledAt: at,
      description: 'Newton, secant and bisection, with live questions.',
      coverUrl: null,
    });
    const later = inHours(48);
    const moved = await s.api.request('PATCH', `/api/rooms/${room.id}`, {
      token: creator.token,
      body: { scheduledAt: later, description: 'Now with fixed points.' },
    });
    expect(moved.body.room).toMatchObject({ scheduledAt: later, description: 'Now with fixed points.' });
    const stolen = await s.api.request('PATCH', `/api/rooms/${room.id}`, {
      token: other.token,
      body: { scheduledAt: inHours(1) },
    });
    expect(stolen.status).toBe(403);
    const unset = await s.api.request('PATCH', `/api/rooms/${room.id}`, {
      token: creator.token,
      body: { scheduledAt: null },
    });
    expect(unset.body.room.scheduledAt).toBeNull();

    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const live = await s.api.request('PATCH', `/api/rooms/${room.id}`, {
      token: creator.token,
      body: { scheduledAt: inHours(2) },
    });
    expect([live.status, live.body.error.code]).toEqual([409, 'CONFLICT']);
    // The description still changes while live.
    const described = await s.api.request('PATCH', `/api/rooms/${room.id}`, {
      token: creator.token,
      body: { description: 'Live now.' },
    });
    expect(described.body.room.description).toBe('Live now.');
  });

  it.each([
    ['a past time', { scheduledAt: new Date(Date.now() - 60_000).toISOString() }],
    ['a time without a zone', { scheduledAt: '2099-01-01T10:00:00' }],
    ['a date only', { scheduledAt: '2099-01-01' }],
    ['words', { scheduledAt: 'tomorrow' }],
    ['more than a year ahead', { scheduledAt: inHours(24 * 400) }],
    ['a long description', { description: 'x'.repeat(5001) }],
  ])('refuses %s', async (_what, fields) => {
    const res = await s.api.post('/api/rooms', { title: 'x', access: 'free', ...fields }, creator.token);
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it('are listed soonest first with their creator; past-due ones stay until started or ended', async () => {
    const owner = await s.api.register('creator', `sched_${Date.now().toString(36)}`);
    await s.api.request('PATCH', '/api/creators/me', { token: owner.token, body: { displayName: 'Prof. Lin' } });
    await upload('/api/creators/me/avatar', owner.token, png);
    const mk = (title: string, scheduledAt?: string) => s.api.room(owner.token, { title, scheduledAt });
    const late = await mk('In three days', inHours(72));
    const soon = await mk('In an hour', inHours(1));
    const unplanned = await mk('Some time');
    const overdue = await mk('Was due', inHours(2));
    // A start time that has passed while the creator has not gone live yet.
    await sql`UPDATE rooms SET scheduled_at = now() - interval '10 minutes' WHERE id = ${overdue.id}`.execute(
      s.lectern.database.db,
    );
    const started = await mk('Started early', inHours(5));
    await s.api.post(`/api/rooms/${started.id}/start`, {}, owner.token);
    const ended = await mk('Called off', inHours(6));
    await s.api.post(`/api/rooms/${ended.id}/end`, {}, owner.token);

    const scheduled = await s.api.get(`/api/rooms?status=scheduled&ownerId=${owner.user.id}`);
    expect(ids(scheduled.body.rooms)).toEqual([overdue.id, soon.id, late.id, unplanned.id]);
    const upcoming = await s.api.get(`/api/rooms?upcoming=true&ownerId=${owner.user.id}`);
    expect(ids(upcoming.body.rooms)).toEqual([overdue.id, soon.id, late.id]);
    expect(upcoming.body.rooms[0].scheduledAt < new Date().toISOString()).toBe(true);
    expect(upcoming.body.rooms[1].creator).toEqual({
      userId: owner.user.id,
      displayName: 'Prof. Lin',
      avatarUrl: expect.stringMatching(/^\/media\/public\/avatars\//),
    });
    // Everyone's upcoming rooms, soonest first.
    const all = await s.api.get('/api/rooms?upcoming=true&limit=100');
    const times = all.body.rooms.map((r: { scheduledAt: string }) => Date.parse(r.scheduledAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(all.body.rooms.every((r: { status: string }) => r.status === 'scheduled')).toBe(true);

    expect((await s.api.get('/api/rooms?upcoming=true&status=live')).status).toBe(400);
    expect((await s.api.get('/api/rooms?upcoming=yes')).status).toBe(400);
  });
});

describe('room covers', () => {
  it('are re-encoded, public and immutable; only the owner sets one, not after the room ends', async () => {
    const room = await s.api.room(creator.token, { title: 'With a cover', scheduledAt: inHours(3) });
    expect((await upload(`/api/rooms/${room.id}/cover`, other.token, png)).status).toBe(403);
    const res = await upload(`/api/rooms/${room.id}/cover`, creator.token, png);
    expect(res.status).toBe(201);
    const url: string = res.body.room.coverUrl;
    expect(url).toMatch(new RegExp(`^/media/public/room-covers/${room.id}/[a-z0-9]+\\.jpg$`));
    const served = await fetch(`${s.url}${url}`);
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(await imageSize(url)).toEqual({ width: 1280, height: 720 });
    expect((await s.api.get(`/api/rooms/${room.id}`)).body.room.coverUrl).toBe(url);
    const listed = await s.api.get(`/api/rooms?upcoming=true&ownerId=${creator.user.id}`);
    expect(listed.body.rooms.find((r: { id: string }) => r.id === room.id).coverUrl).toBe(url);

    expect((await upload(`/api/rooms/${room.id}/cover`, creator.token, 'GIF89a but not really')).status).toBe(400);
    await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
    expect((await upload(`/api/rooms/${room.id}/cover`, creator.token, png)).status).toBe(409);
  });
});

describe('live rooms', () => {
  it('carry how many are watching (the owner is not counted)', async () => {
    const room = await s.api.room(creator.token, { title: 'Watched' });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const find = async () =>
      (await s.api.get(`/api/rooms?status=live&ownerId=${creator.user.id}`)).body.rooms.find(
        (r: { id: string }) => r.id === room.id,
      );
    expect((await find()).viewerCount).toBe(0);
    const owner = await connect(s.url, creator.token);
    await ok(owner, 'room:join', { roomId: room.id });
    const viewers = await Promise.all([connect(s.url, viewer.token), connect(s.url), connect(s.url)]);
    for (const v of viewers) await ok(v, 'room:join', { roomId: room.id });
    expect((await find()).viewerCount).toBe(3);
    viewers[2].close();
    await eventually(async () => (await find()).viewerCount === 2, 5000, 'a viewer who left is not counted');
    // Only live rooms carry a count.
    const scheduled = await s.api.room(creator.token, { title: 'Later', scheduledAt: inHours(1) });
    const upcoming = (await s.api.get(`/api/rooms?upcoming=true&ownerId=${creator.user.id}`)).body.rooms;
    expect(upcoming.find((r: { id: string }) => r.id === scheduled.id)).not.toHaveProperty('viewerCount');
  });
});
