import type { Room, RoomSettings } from '@lectern/client-sdk';
import { describeError } from './errors';
import { timeOfDay } from './format';

/** Moderation in words: a room's chat rules, timeouts, and why a message was refused. */

/** "30 seconds", "1 minute", "2 minutes", "1 hour". */
export function spanText(seconds: number): string {
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** When a timeout ends, as a person reads it: "14:05" today, "Tue 14:05" another day. */
export function untilText(iso: string): string {
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  return today ? timeOfDay(iso) : `${at.toLocaleDateString(undefined, { weekday: 'short' })} ${timeOfDay(iso)}`;
}

/** Who may write when subscribers-only chat is on, in this kind of room. */
export function supportersText(room: Room): string {
  return room.access === 'ticket' ? 'ticket holders and subscribers' : 'subscribers';
}

/** The rules a viewer writes under: "Slow mode: one message every 30 seconds · Only subscribers can chat". */
export function rulesText(room: Room, settings: RoomSettings): string {
  const rules: string[] = [];
  if (settings.slowModeSeconds > 0) rules.push(`Slow mode: one message every ${spanText(settings.slowModeSeconds)}`);
  if (settings.subscribersOnlyChat) rules.push(`Only ${supportersText(room)} can chat`);
  return rules.join(' · ');
}

export function mutedText(until: string, reason?: string): string {
  return `A moderator timed you out until ${untilText(until)}${reason ? ` (“${reason}”)` : ''}. You can still watch.`;
}

/** Why the server refused a chat message, in words (the server's own strings are for developers). */
export function chatRefusal(err: unknown, room: Room): string {
  const e = err as { code?: string; details?: Record<string, unknown> } | null;
  switch (e?.code) {
    case 'SLOW_MODE': {
      const wait = Math.max(1, Math.ceil(Number(e.details?.retryAfterMs ?? 0) / 1000));
      return `Slow mode is on: you can write again in ${spanText(wait)}.`;
    }
    case 'MUTED':
      return typeof e.details?.until === 'string'
        ? `You are timed out until ${untilText(e.details.until)}.`
        : 'You are timed out in this room for now.';
    case 'FORBIDDEN':
      return `Only ${supportersText(room)} can chat in this room right now.`;
    case 'INVALID_ARGUMENT':
      if (e.details?.reason === 'banned_word') return 'Your message has a word this room does not allow.';
      return describeError(err);
    default:
      return describeError(err);
  }
}
