import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** As JWT_SECRET must be: a shorter secret can be guessed, an empty one makes every token forgeable. */
export const MIN_SECRET_LENGTH = 32;

/**
 * The token signing secret: JWT_SECRET when configured; otherwise (embedded single node) a
 * random one made on first start and kept in the data directory, so tokens survive restarts.
 * The file is written whole or not at all (a temporary file renamed into place), and a file
 * holding less than a secret is refused rather than used.
 */
export function resolveJwtSecret(config: { jwtSecret?: string; dataDir: string }): string {
  if (config.jwtSecret) return config.jwtSecret;
  const file = path.resolve(config.dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, randomBytes(48).toString('base64url'), { mode: 0o600 });
    renameSync(partial, file);
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `${file} holds ${secret.length} characters, fewer than the ${MIN_SECRET_LENGTH} a token secret needs: ` +
        'delete it to have a new one made (signing out everyone), or set JWT_SECRET',
    );
  }
  return secret;
}
