import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, spawnServer } from './helpers/process';

const postmasterRunning = (dir: string) => {
  try {
    return execFileSync('ps', ['-eo', 'args']).toString().includes(`-D ${dir}`);
  } catch {
    return false;
  }
};

it('with no DATABASE_URL, starts its own Postgres, migrates, serves, and stops it again', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lectern-embedded-'));
  chmodSync(dataDir, 0o755); // as root, Postgres runs as the postgres user, who must reach it
  const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), PORT: '0', MEDIA_PORT: '0' };
  try {
    const server = await spawnServer(env);
    expect(server.output()).toContain('no DATABASE_URL: using the embedded Postgres');
    expect(server.output()).toContain('Up 0001_foundation: Success');
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { checks: { database: { detail: string } } }).checks.database.detail).toBe(
      'embedded',
    );

    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'first', password: 'first-user-pw' }),
    });
    expect(reg.status).toBe(201);
    expect(await server.stop()).toBe(0);
    expect(postmasterRunning(path.join(dataDir, 'pg'))).toBe(false);

    // A second start finds the cluster, applies nothing new, and still has the user.
    const again = await spawnServer(env);
    expect(again.output()).not.toContain('initialising');
    const login = await fetch(`${again.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'first', password: 'first-user-pw' }),
    });
    expect(login.status).toBe(200);
    expect(await again.stop()).toBe(0);
    expect(existsSync(path.join(dataDir, 'jwt-secret'))).toBe(true);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
