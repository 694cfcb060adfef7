import { hash, verify } from '@node-rs/argon2';

// argon2id with the library's defaults (OWASP's recommended 19 MiB, t=2, p=1).
export const hashPassword = (password: string): Promise<string> => hash(password);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A real hash of nothing in particular, verified when a login names an unknown user, so that
 * "no such user" and "wrong password" take the same time.
 */
let dummyHash: Promise<string> | undefined;
export const timingDummyHash = () => (dummyHash ??= hash('lectern-timing-equaliser'));
