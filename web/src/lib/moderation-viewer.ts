import type { LecternClient } from '@lectern/client-sdk';

export type StandingChange = 'muted' | 'unmuted' | 'removed' | 'reinstated';

/**
 * What moderation did to this viewer in a room: timed out (until when), removed by a ban, let
 * back in by an unban. Fed by `moderation:applied` and `room:left {reason: "banned"}`; a
 * timeout ends by itself at its time (the server does not announce that).
 */
export class ViewerStanding {
  mutedUntil: string | undefined;
  muteReason: string | undefined;
  removed = false;
  removedReason: string | undefined;
  /** Removed, then unbanned while the page was still open: joining again works. */
  reinstated = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    client: LecternClient,
    roomId: string,
    private readonly onChange: (change: StandingChange) => void,
  ) {
    client.on('moderation:applied', (p) => {
      if (p.roomId !== roomId) return;
      if (p.action === 'mute' && p.until) this.mute(p.until, p.reason);
      else if (p.action === 'unmute') this.unmute();
      else if (p.action === 'ban') this.remove(p.reason);
      else if (p.action === 'unban' && this.removed && !this.reinstated) {
        this.reinstated = true;
        this.onChange('reinstated');
      }
    });
    client.on('room:left', (p) => p.roomId === roomId && p.reason === 'banned' && this.remove());
  }

  get muted(): boolean {
    return !!this.mutedUntil && Date.parse(this.mutedUntil) > Date.now();
  }

  mute(until: string, reason?: string): void {
    clearTimeout(this.timer);
    if (Date.parse(until) <= Date.now()) {
      this.unmute();
      return;
    }
    const changed = this.mutedUntil !== until;
    this.mutedUntil = until;
    this.muteReason = reason ?? (changed ? undefined : this.muteReason);
    // Timers are clamped to ~24.8 days; a timeout is at most 7.
    this.timer = setTimeout(() => this.unmute(), Date.parse(until) - Date.now() + 250);
    if (changed) this.onChange('muted');
  }

  unmute(): void {
    clearTimeout(this.timer);
    if (!this.mutedUntil) return;
    this.mutedUntil = undefined;
    this.muteReason = undefined;
    this.onChange('unmuted');
  }

  private remove(reason?: string): void {
    if (reason) this.removedReason = reason;
    if (this.removed && !this.reinstated) return;
    this.removed = true;
    this.reinstated = false;
    clearTimeout(this.timer);
    this.onChange('removed');
  }
}
