import { createRequire } from 'node:module';
import { instrument } from '@socket.io/admin-ui';
import type { Server } from 'socket.io';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { IoServer } from './types';

/** The Admin UI's namespace. */
export const ADMIN_NAMESPACE = '/admin';

/** A bcrypt hash as bcrypt writes it: `$2a$`, `$2b$` or `$2y$`, the cost, 53 characters of salt and hash. */
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * bcryptjs, the very copy `@socket.io/admin-ui` checks passwords with (its dependency, resolved
 * from the package itself, so a hash made here is one it reads).
 */
const bcrypt = createRequire(require.resolve('@socket.io/admin-ui'))('bcryptjs') as {
  hashSync(password: string, rounds: number): string;
};

/** The configured password as the Admin UI wants it: a bcrypt hash (hashed here unless it already is one). */
export function adminPasswordHash(password: string): string {
  return BCRYPT_HASH.test(password) ? password : bcrypt.hashSync(password, 10);
}

/**
 * The Socket.IO Admin UI (https://socket.io/docs/v4/admin-ui/) for operators, when
 * SOCKET_ADMIN_UI_ENABLED: the `/admin` namespace, where the UI (https://admin.socket.io, or a
 * self-hosted copy) connects with the configured user name and password. Aggregated events only
 * (`production` mode: no per-socket event stream), read-only unless SOCKET_ADMIN_UI_READONLY=false.
 * Disabled, the namespace does not exist: a connection to it is refused as an invalid namespace.
 * The browser's origin must be allowed like any other (ALLOWED_ORIGINS).
 */
export function installAdminUi(
  io: IoServer,
  config: Pick<
    Config,
    'socketAdminUiEnabled' | 'socketAdminUiUsername' | 'socketAdminUiPassword' | 'socketAdminUiReadonly'
  >,
  log: Logger,
): void {
  if (!config.socketAdminUiEnabled) return;
  // loadConfig refuses the flag without a password; a config built another way must not open it.
  if (!config.socketAdminUiPassword) throw new Error('SOCKET_ADMIN_UI_PASSWORD is required to enable the Admin UI');
  instrument(io as unknown as Server, {
    namespaceName: ADMIN_NAMESPACE,
    auth: {
      type: 'basic',
      username: config.socketAdminUiUsername,
      password: adminPasswordHash(config.socketAdminUiPassword),
    },
    readonly: config.socketAdminUiReadonly,
    mode: 'production',
  });
  log.info(
    { namespace: ADMIN_NAMESPACE, username: config.socketAdminUiUsername, readonly: config.socketAdminUiReadonly },
    'Socket.IO Admin UI enabled',
  );
}
