import { io, type Socket } from 'socket.io-client';
import { ConfigError, loadConfig } from '../../server/config';
import { ADMIN_NAMESPACE, adminPasswordHash } from '../../server/gateway/admin-ui';
import { startTestServer, type TestServer } from '../helpers/server';

/** The Socket.IO Admin UI: off by default; on, its namespace admits only the configured operator. */

const USERNAME = 'ops';
const PASSWORD = 'a long operator password';

const opened: Socket[] = [];
/** Resolves with 'connected', or the connect_error's message. */
function tryAdmin(url: string, auth: Record<string, string>): Promise<string> {
  const socket = io(`${url}${ADMIN_NAMESPACE}`, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  opened.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err) => resolve(err.message));
  });
}

let enabled: TestServer;
let disabled: TestServer;
beforeAll(async () => {
  [enabled, disabled] = await Promise.all([
    startTestServer({
      SOCKET_ADMIN_UI_ENABLED: 'true',
      SOCKET_ADMIN_UI_USERNAME: USERNAME,
      SOCKET_ADMIN_UI_PASSWORD: PASSWORD,
    }),
    startTestServer(),
  ]);
});
afterAll(async () => {
  for (const socket of opened) socket.close();
  await Promise.all([enabled.close(), disabled.close()]);
});

describe('the Admin UI namespace', () => {
  it('refuses connections without or with wrong credentials', async () => {
    expect(await tryAdmin(enabled.url, {})).toBe('invalid credentials');
    expect(await tryAdmin(enabled.url, { username: USERNAME, password: `${PASSWORD}x` })).toBe('invalid credentials');
    expect(await tryAdmin(enabled.url, { username: 'admin', password: PASSWORD })).toBe('invalid credentials');
  });

  it('admits the operator with the configured credentials', async () => {
    expect(await tryAdmin(enabled.url, { username: USERNAME, password: PASSWORD })).toBe('connected');
  });

  it('does not exist when disabled (the default)', async () => {
    expect(loadConfig({}).socketAdminUiEnabled).toBe(false);
    expect(await tryAdmin(disabled.url, { username: USERNAME, password: PASSWORD })).toBe('Invalid namespace');
  });
});

describe('its configuration', () => {
  it('refuses to enable it without a password of at least 12 characters, and never repeats the password', () => {
    expect(() => loadConfig({ SOCKET_ADMIN_UI_ENABLED: 'true' })).toThrow(/SOCKET_ADMIN_UI_PASSWORD is required/);
    try {
      loadConfig({ SOCKET_ADMIN_UI_ENABLED: 'true', SOCKET_ADMIN_UI_PASSWORD: 'short-pw' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/SOCKET_ADMIN_UI_PASSWORD=\[redacted\]: must be at least 12 characters/);
      expect((err as Error).message).not.toContain('short-pw');
    }
  });

  it('takes the password or its bcrypt hash', () => {
    const hash = adminPasswordHash(PASSWORD);
    expect(hash).toMatch(/^\$2[aby]\$10\$/);
    expect(adminPasswordHash(hash)).toBe(hash);
    expect(loadConfig({ SOCKET_ADMIN_UI_ENABLED: 'true', SOCKET_ADMIN_UI_PASSWORD: hash }).socketAdminUiPassword).toBe(
      hash,
    );
  });
});
