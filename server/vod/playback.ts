import type { Kysely } from 'kysely';
import type { Content, MediaInfo } from '../../protocol';
import type { Principal } from '../auth';
import type { Config } from '../config';
import type { DB } from '../db';
import { AppError, notFound } from '../errors';
import type { PaymentsService } from '../payments';
import { type MediaUrlSigner, mediaUrl, type UrlSubject } from '../storage';
import { type AssetRow, isQueued, loadAsset, mediaInfo, trimmedSegments } from './assets';

/** How far someone may go with a content's or a room's videos. */
export type WatchLevel = 'owner' | 'entitled' | 'none';

type RoomRef = { id: string; owner_id: string; access: 'free' | 'ticket' | 'subscribers' };
type ContentRef = Pick<Content, 'id' | 'creatorId' | 'price' | 'freeTrial'>;

/** Refusal for someone who may not watch: sign in first (guests), or pay (everyone else). */
export function refuse(principal: Principal | null): AppError {
  return principal
    ? new AppError('PAYMENT_REQUIRED', 'buy this to watch it')
    : new AppError('UNAUTHENTICATED', 'sign in to watch this');
}

/**
 * Who may watch what, and the signed URLs that let them. A lesson's video: its creator and
 * admins, its buyers (directly or through a course or bundle), and anyone for a free trial or a
 * free lesson. A room's replay: whoever has full access to the room now (a free room: everyone;
 * a ticket room: ticket holders; a subscribers room: subscribers while subscribed).
 */
export class Playback {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly payments: Pick<PaymentsService, 'ownsContent' | 'roomEntitlement'>,
    private readonly signer: MediaUrlSigner,
    private readonly config: Pick<Config, 'mediaUrlTtlSeconds' | 'mediaPublicBaseUrl'>,
  ) {}

  async contentLevel(principal: Principal | null, content: ContentRef): Promise<WatchLevel> {
    if (principal && (principal.id === content.creatorId || principal.role === 'admin')) return 'owner';
    if (content.freeTrial || content.price === 0) return 'entitled';
    if (principal && (await this.payments.ownsContent(principal.id, content.id))) return 'entitled';
    return 'none';
  }

  async roomLevel(principal: Principal | null, room: RoomRef): Promise<WatchLevel> {
    if (principal && (principal.id === room.owner_id || principal.role === 'admin')) return 'owner';
    const { entitled } = await this.payments.roomEntitlement(principal, {
      id: room.id,
      ownerId: room.owner_id,
      access: room.access,
    });
    return entitled ? 'entitled' : 'none';
  }

  /** The asset as the caller may see it: status for everyone entitled, the playlist once ready. */
  async info(principal: Principal | null, level: WatchLevel, assetId: string | null): Promise<MediaInfo> {
    if (level === 'none') throw refuse(principal);
    const asset = assetId ? await loadAsset(this.db, assetId) : undefined;
    if (!asset) throw notFound('video');
    const info = mediaInfo(asset, {
      forOwner: level === 'owner',
      queued: asset.status === 'processing' && (await isQueued(this.db, asset.id)),
    });
    if (asset.status === 'ready') Object.assign(info, this.playlistUrl(asset, principal?.id ?? null));
    return info;
  }

  playlistUrl(asset: Pick<AssetRow, 'id'>, subject: UrlSubject): { playlistUrl: string; expiresAt: string } {
    const expires = Math.floor(Date.now() / 1000) + this.config.mediaUrlTtlSeconds;
    const path = `a/${asset.id}/index.m3u8`;
    return {
      playlistUrl: `/media/${path}?${this.signer.query(path, subject, expires)}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  /**
   * The HLS playlist for a signed request: only the segments inside the trim, each signed for the
   * same viewer until the playlist's expiry plus the video's length (time to finish watching).
   */
  async playlist(assetId: string, subject: UrlSubject, expiresAt: number): Promise<string> {
    const asset = await loadAsset(this.db, assetId);
    if (asset?.status !== 'ready') throw notFound('video');
    const { segments, durationSeconds } = trimmedSegments(asset);
    const segmentExpiry = expiresAt + Math.ceil(durationSeconds) + 60;
    const target = Math.max(1, ...segments.map((s) => Math.ceil(s.duration)));
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${target}`,
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
    ];
    for (const segment of segments) {
      const path = `a/${asset.id}/${segment.uri}`;
      const query = this.signer.query(path, subject, segmentExpiry);
      // Relative to the playlist on this node; absolute when a CDN serves the segments.
      const uri = this.config.mediaPublicBaseUrl
        ? `${mediaUrl(this.config, path)}?${query}`
        : `${segment.uri}?${query}`;
      lines.push(`#EXTINF:${segment.duration.toFixed(3)},`, uri);
    }
    lines.push('#EXT-X-ENDLIST', '');
    return lines.join('\n');
  }

  /** A signed URL for one attachment, valid for MEDIA_URL_TTL_SECONDS. */
  attachmentUrl(attachmentId: string, filename: string, subject: UrlSubject): { url: string; expiresAt: string } {
    const path = `f/${attachmentId}/${encodeURIComponent(filename)}`;
    const expires = Math.floor(Date.now() / 1000) + this.config.mediaUrlTtlSeconds;
    return {
      url: `/media/${path}?${this.signer.query(path, subject, expires)}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }
}
