import type { Room, RoomSettings } from '@lectern/client-sdk';
import { describeError } from './errors';
import { timeOfDay } from './format';
import { formatDate, formatNumber, messages } from './i18n';

/** Moderation in words: a room's chat rules, timeouts, and why a message was refused. */

const t = messages({
  en: {
    hours: (n: number) => (n === 1 ? '1 hour' : `${formatNumber(n)} hours`),
    minutes: (n: number) => (n === 1 ? '1 minute' : `${formatNumber(n)} minutes`),
    seconds: (n: number) => (n === 1 ? '1 second' : `${formatNumber(n)} seconds`),
    ticketHolders: 'ticket holders and subscribers',
    subscribers: 'subscribers',
    slowMode: (span: string) => `Slow mode: one message every ${span}`,
    onlyCanChat: (who: string) => `Only ${who} can chat`,
    mutedText: (until: string, reason: string) =>
      `A moderator timed you out until ${until}${reason ? ` (“${reason}”)` : ''}. You can still watch.`,
    slowWait: (span: string) => `Slow mode is on: you can write again in ${span}.`,
    timedOutUntil: (until: string) => `You are timed out until ${until}.`,
    timedOut: 'You are timed out in this room for now.',
    onlyNow: (who: string) => `Only ${who} can chat in this room right now.`,
    blockedWord: 'Your message has a word this room does not allow.',
    tooFast: 'You are writing quickly: wait a moment before the next message.',
  },
  'zh-CN': {
    hours: (n: number) => `${formatNumber(n)} 小时`,
    minutes: (n: number) => `${formatNumber(n)} 分钟`,
    seconds: (n: number) => `${formatNumber(n)} 秒`,
    ticketHolders: '购票观众和订阅者',
    subscribers: '订阅者',
    slowMode: (span: string) => `慢速模式：每 ${span}只能发一条消息`,
    onlyCanChat: (who: string) => `仅${who}可以聊天`,
    mutedText: (until: string, reason: string) =>
      `管理员已将你禁言至 ${until}${reason ? `（“${reason}”）` : ''}。你仍然可以观看。`,
    slowWait: (span: string) => `慢速模式已开启：${span}后才能再发言。`,
    timedOutUntil: (until: string) => `你已被禁言至 ${until}。`,
    timedOut: '你在这个直播间暂时被禁言。',
    onlyNow: (who: string) => `现在只有${who}可以在这个直播间聊天。`,
    blockedWord: '你的消息包含本直播间不允许的词语。',
    tooFast: '发言太快了，请稍等再发下一条。',
  },
});

/** "30 seconds", "1 minute", "2 minutes", "1 hour". */
export function spanText(seconds: number): string {
  if (seconds % 3600 === 0) return t.hours(seconds / 3600);
  if (seconds % 60 === 0) return t.minutes(seconds / 60);
  return t.seconds(seconds);
}

/** When a timeout ends, as a person reads it: "14:05" today, "Tue 14:05" another day. */
export function untilText(iso: string): string {
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  return today ? timeOfDay(iso) : `${formatDate(at, { weekday: 'short' })} ${timeOfDay(iso)}`;
}

/** Who may write when subscribers-only chat is on, in this kind of room. */
export function supportersText(room: Room): string {
  return room.access === 'ticket' ? t.ticketHolders : t.subscribers;
}

/** The rules a viewer writes under: "Slow mode: one message every 30 seconds · Only subscribers can chat". */
export function rulesText(room: Room, settings: RoomSettings): string {
  const rules: string[] = [];
  if (settings.slowModeSeconds > 0) rules.push(t.slowMode(spanText(settings.slowModeSeconds)));
  if (settings.subscribersOnlyChat) rules.push(t.onlyCanChat(supportersText(room)));
  return rules.join(' · ');
}

export function mutedText(until: string, reason?: string): string {
  return t.mutedText(untilText(until), reason ?? '');
}

/** Why the server refused a chat message, in words (the server's own strings are for developers). */
export function chatRefusal(err: unknown, room: Room): string {
  const e = err as { code?: string; details?: Record<string, unknown> } | null;
  switch (e?.code) {
    case 'SLOW_MODE': {
      const wait = Math.max(1, Math.ceil(Number(e.details?.retryAfterMs ?? 0) / 1000));
      return t.slowWait(spanText(wait));
    }
    case 'MUTED':
      return typeof e.details?.until === 'string' ? t.timedOutUntil(untilText(e.details.until)) : t.timedOut;
    case 'FORBIDDEN':
      return t.onlyNow(supportersText(room));
    case 'RATE_LIMITED':
      return t.tooFast;
    case 'INVALID_ARGUMENT':
      if (e.details?.reason === 'banned_word') return t.blockedWord;
      return describeError(err);
    default:
      return describeError(err);
  }
}
