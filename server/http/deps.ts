import type { AuthService } from '../auth';
import type { CatalogService } from '../catalog';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { PaymentsService } from '../payments';
import type { TokenBucketLimiter } from '../ratelimit';
import type { RoomsService } from '../rooms';

export interface Health {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Everything the HTTP edge talks to. */
export interface HttpDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  auth: AuthService;
  catalog: CatalogService;
  rooms: RoomsService;
  payments: PaymentsService;
  health: () => Promise<Health>;
  limiters: { auth: TokenBucketLimiter; api: TokenBucketLimiter };
}
