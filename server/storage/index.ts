import path from 'node:path';
import type { Config } from '../config';
import { LocalDiskStore } from './local-disk';
import type { MediaStore } from './media-store';
import { MediaUrlSigner } from './signed-urls';

export { LocalDiskStore } from './local-disk';
export * from './media-store';
export { MediaUrlSigner, type UrlCheck, type UrlRefusal, type UrlSubject } from './signed-urls';

/** The configured MediaStore: the local disk under MEDIA_STORE_DIR (default `DATA_DIR/media`). */
export function createMediaStore(config: Pick<Config, 'mediaStoreDir' | 'dataDir'>): MediaStore {
  return new LocalDiskStore(config.mediaStoreDir ?? path.join(config.dataDir, 'media'));
}

export function createUrlSigner(config: Pick<Config, 'mediaUrlSecret'>, jwtSecret: string): MediaUrlSigner {
  return config.mediaUrlSecret ? new MediaUrlSigner(config.mediaUrlSecret, false) : new MediaUrlSigner(jwtSecret, true);
}

/** Where `/media/<path>` is fetched from: the CDN in front (MEDIA_PUBLIC_BASE_URL) or this node. */
export function mediaUrl(config: Pick<Config, 'mediaPublicBaseUrl'>, mediaPath: string): string {
  const base = config.mediaPublicBaseUrl?.replace(/\/+$/, '') ?? '';
  return `${base}/media/${mediaPath}`;
}
