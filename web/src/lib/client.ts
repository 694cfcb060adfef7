import { LecternClient } from '@lectern/client-sdk';
import type { Session } from './session';

/** A realtime connection to the server that served this page, as the signed-in user (or a guest). */
export async function connectClient(session: Session | null): Promise<LecternClient> {
  const client = new LecternClient({
    url: location.origin,
    token: session?.token,
    socketOptions: { transports: ['websocket'] },
  });
  await client.connect();
  return client;
}
