import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';

/**
 * The Socket.IO adapter that joins this node to the others sharing Redis. Every name it uses
 * carries the deployment's key prefix — the broadcast stream, the pub/sub channels of node-to-node
 * notices (`room:closed`, `access:recheck`, …) and the recovery sessions — so deployments that
 * share a Redis under different prefixes never hear each other.
 */
export function clusterAdapter(
  redis: Redis,
  keyPrefix: string,
  /** The broadcast stream's length (`XADD MAXLEN ~`): the broadcasts a resuming connection can get. */
  maxBroadcasts?: number,
): ReturnType<typeof createAdapter> {
  return createAdapter(redis, {
    ...(maxBroadcasts ? { maxLen: maxBroadcasts } : {}),
    streamName: `${keyPrefix}socket.io`,
    channelPrefix: `${keyPrefix}socket.io`,
    sessionKeyPrefix: `${keyPrefix}sio:session:`,
  });
}
