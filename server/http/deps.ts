import type { Analytics } from '../analytics';
import type { AuthService } from '../auth';
import type { CatalogService } from '../catalog';
import type { Config } from '../config';
import type { FollowsService } from '../follows';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { PaymentsService } from '../payments';
import type { TokenBucketLimiter } from '../ratelimit';
import type { LiveForYou } from '../recommender/live/for-you';
import type { RoomsService } from '../rooms';
import type { MediaStore, MediaUrlSigner } from '../storage';
import type { VodService } from '../vod';
import type { WebhookRegistry } from '../webhooks';

export interface HealthCheck {
  ok: boolean;
  /** A required check failing makes the node unable to serve (503); others only degrade it. */
  required: boolean;
  detail?: string;
}

export interface Health {
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, HealthCheck>;
}

export function summarize(checks: Record<string, HealthCheck>): Health {
  const all = Object.values(checks);
  const status = all.some((c) => c.required && !c.ok) ? 'unavailable' : all.some((c) => !c.ok) ? 'degraded' : 'ok';
  return { status, checks };
}

/** Everything the HTTP edge talks to. */
export interface HttpDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  auth: AuthService;
  catalog: CatalogService;
  rooms: RoomsService;
  /** Viewers following creators (`PUT`/`DELETE /api/creators/:id/follow`, `GET /api/me/follows`). */
  follows: FollowsService;
  payments: PaymentsService;
  analytics: Pick<Analytics, 'roomReport' | 'creatorReport'>;
  webhooks: WebhookRegistry;
  vod: VodService;
  /** Viewers of live rooms right now, from the gateway (it is built after the HTTP app). */
  viewerCounts: (roomIds: string[]) => Promise<Map<string, number>>;
  /** "Live now for you": live and upcoming rooms ranked per viewer (`GET /api/rooms/for-you`). */
  liveForYou: LiveForYou;
  store: MediaStore;
  signer: MediaUrlSigner;
  health: () => Promise<Health>;
  limiters: { auth: TokenBucketLimiter; api: TokenBucketLimiter };
}
