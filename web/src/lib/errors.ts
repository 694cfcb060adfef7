import { messages } from './i18n';

/**
 * What to tell a person when a request is refused: a sentence per stable error code, in their
 * language. Never the server's own text (it is written for developers); where a code covers
 * several situations, the page that knows which one passes its own sentence (`describeError`'s
 * `overrides`).
 */
const t = messages({
  en: {
    UNAUTHENTICATED: 'Please sign in first.',
    FORBIDDEN: 'You are not allowed to do that here.',
    NOT_FOUND: 'That does not exist (any more).',
    INVALID_ARGUMENT: 'That was not accepted: check what you entered.',
    RATE_LIMITED: 'Slow down a little and try again.',
    SLOW_MODE: 'Slow mode is on: wait a moment before your next message.',
    MUTED: 'You are timed out in this room for now.',
    BANNED: 'You are banned from this room.',
    PAYMENT_REQUIRED: 'This needs a ticket, a subscription or a purchase.',
    INSUFFICIENT_FUNDS: 'Not enough money in your wallet: top it up first.',
    PAYMENT_DECLINED: 'The payment was declined.',
    CONFLICT: 'That cannot be done right now.',
    PAYLOAD_TOO_LARGE: 'The file is too large.',
    UNAVAILABLE: 'The server is not reachable right now. Try again shortly.',
    INTERNAL: 'Something went wrong on our side.',
    cameraDenied: 'The browser was not allowed to use the camera or microphone.',
    noCamera: 'No camera or microphone was found.',
    unknown: 'Something went wrong.',
    wrongPassword: 'Wrong username or password.',
    alreadyOwned: 'You already own this.',
    roomEnded: 'This room has ended.',
  },
  'zh-CN': {
    UNAUTHENTICATED: '请先登录。',
    FORBIDDEN: '你在这里没有这样做的权限。',
    NOT_FOUND: '内容不存在（或已被删除）。',
    INVALID_ARGUMENT: '输入的内容无法接受，请检查后重试。',
    RATE_LIMITED: '操作太快了，请稍后再试。',
    SLOW_MODE: '慢速模式已开启：请稍等再发下一条消息。',
    MUTED: '你在这个直播间暂时被禁言。',
    BANNED: '你已被移出这个直播间。',
    PAYMENT_REQUIRED: '需要购买门票、订阅或购买内容后才能观看。',
    INSUFFICIENT_FUNDS: '钱包余额不足，请先充值。',
    PAYMENT_DECLINED: '支付被拒绝。',
    CONFLICT: '现在无法完成这个操作。',
    PAYLOAD_TOO_LARGE: '文件太大了。',
    UNAVAILABLE: '暂时无法连接服务器，请稍后再试。',
    INTERNAL: '我们这边出了点问题。',
    cameraDenied: '浏览器没有获得摄像头或麦克风的使用权限。',
    noCamera: '没有找到摄像头或麦克风。',
    unknown: '出了点问题。',
    wrongPassword: '用户名或密码错误。',
    alreadyOwned: '你已经拥有这个内容。',
    roomEnded: '这个直播已经结束。',
  },
});

export const errorText = t;

/** Known refusals that a code alone does not tell apart, recognised by the server's message. */
const KNOWN: [RegExp, keyof typeof t][] = [
  [/already (purchased|own)/i, 'alreadyOwned'],
  [/room has ended/i, 'roomEnded'],
];

/** An error whose message is already written for people (a page's own words): shown as it is. */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

/**
 * A readable sentence for any error (LecternError, ApiError, media errors, anything), in the
 * page's language. `overrides` give a page's own words for codes it knows the meaning of.
 */
export function describeError(err: unknown, overrides: Partial<Record<string, string>> = {}): string {
  const e = err as { code?: string; message?: string; name?: string } | null;
  if (err instanceof UserFacingError) return err.message;
  if (e?.name === 'NotAllowedError') return t.cameraDenied;
  if (e?.name === 'NotFoundError') return t.noCamera;
  if (e?.code && overrides[e.code]) return overrides[e.code]!;
  for (const [pattern, key] of KNOWN) if (e?.message && pattern.test(e.message)) return t[key] as string;
  const known = e?.code && (t as Record<string, unknown>)[e.code];
  return typeof known === 'string' ? known : t.unknown;
}

export const codeOf = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;
