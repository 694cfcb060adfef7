/**
 * Operator commands:
 *   migrate [latest|up|down|zero|status]   apply or roll back schema migrations
 *   user:role <username> <viewer|creator|admin>
 * Uses DATABASE_URL, or the embedded Postgres when it is unset (like the server).
 */
import { createAuthService } from './auth';
import { resolveJwtSecret } from './auth/secret';
import { loadConfig } from './config';
import { migrateDown, migrateToLatest, migrateToZero, migrateUp, migrationStatus, openDatabase } from './db';
import { createLogger } from './log';

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  const config = { ...loadConfig(process.env), migrateOnStart: false };
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const database = await openDatabase(config, log);
  try {
    switch (command) {
      case 'migrate': {
        const step = args[0] ?? 'latest';
        const run = { latest: migrateToLatest, up: migrateUp, down: migrateDown, zero: migrateToZero }[step];
        if (step === 'status') {
          for (const m of await migrationStatus(database.db))
            console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}`);
        } else if (run) {
          const results = await run(database.db);
          console.log(results.length ? results.join('\n') : 'nothing to do');
        } else throw new Error(`unknown migrate step "${step}" (latest, up, down, zero, status)`);
        break;
      }
      case 'user:role': {
        const [username, role] = args;
        if (!username || !['viewer', 'creator', 'admin'].includes(role ?? ''))
          throw new Error('usage: user:role <username> <viewer|creator|admin>');
        const auth = createAuthService({
          db: database.db,
          secret: resolveJwtSecret(config),
          ttlSeconds: config.jwtTtlSeconds,
        });
        const user = await auth.setRole(username, role as 'viewer' | 'creator' | 'admin');
        console.log(`${user.username} is now ${user.role} (log in again for a token with the new role)`);
        break;
      }
      default:
        throw new Error('usage: cli.ts migrate [latest|up|down|zero|status] | user:role <username> <role>');
    }
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
