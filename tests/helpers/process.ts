import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

/** A free TCP port on loopback (for child processes that cannot be told "port 0"). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs `server/main.ts` as its own process, the way `npm start` does, and resolves once it
 * logs that it is serving.
 */
export function spawnServer(
  env: Record<string, string>,
  timeoutMs = 60_000,
  /** Pin the server to these CPUs (`taskset -c`), e.g. `'0'`, so load and server do not share a core. */
  cpus?: string,
  /** Extra Node flags, e.g. `--cpu-prof`. */
  nodeFlags: string[] = [],
): Promise<ServerProcess> {
  // The young generation `npm start` gives the server (docs/money.md#throughput).
  const node = [process.execPath, '--max-semi-space-size=32', ...nodeFlags, '--import', 'tsx', 'server/main.ts'];
  const [command, ...args] = cpus ? ['taskset', '-c', cpus, ...node] : node;
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:[^"]+)","msg":"lectern is serving"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1],
          output: () => out,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before serving:\n${out}`));
    });
  });
}
