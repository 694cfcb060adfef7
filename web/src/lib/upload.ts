import type { ServerLimits } from '../../../protocol';
import { ApiError, api, authHeaders, readResponse } from './api';
import { fileSize } from './format';
import { messages } from './i18n';

let limits: Promise<ServerLimits> | undefined;
/** The server's upload limits (`GET /api/limits`), asked once per page. */
export function serverLimits(): Promise<ServerLimits> {
  limits ??= api<ServerLimits>('GET', '/api/limits').catch((err) => {
    limits = undefined;
    throw err;
  });
  return limits;
}

/** Which limit applies to an upload. */
export type UploadKind = 'video' | 'cover' | 'attachment';
const LIMIT_OF: Record<UploadKind, keyof ServerLimits> = {
  video: 'uploadMaxBytes',
  cover: 'coverMaxBytes',
  attachment: 'attachmentMaxBytes',
};

export interface UploadOptions {
  /** The body's type; the file's own when it has one. */
  contentType?: string;
  /** Bytes sent so far, of `total`. */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  /** Refuse at once, before sending anything, a file over this kind's server limit. */
  kind?: UploadKind;
}

/**
 * Sends a file as the raw request body with the signed-in user's token. XMLHttpRequest rather
 * than fetch: only it reports upload progress.
 */
export async function uploadFile<T>(path: string, file: Blob, options: UploadOptions = {}): Promise<T> {
  if (options.kind) {
    const max = await serverLimits()
      .then((l) => l[LIMIT_OF[options.kind!]] as number)
      .catch(() => undefined);
    if (max !== undefined && file.size > max) {
      throw new ApiError('PAYLOAD_TOO_LARGE', 'the file is too large', 413, { maxBytes: max });
    }
  }
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('content-type', options.contentType || file.type || 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) options.onProgress?.(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      try {
        resolve(readResponse<T>(xhr.status, xhr.statusText, xhr.responseText));
      } catch (err) {
        reject(err);
      }
    });
    // A server that refuses a large body early may close the connection before answering.
    xhr.addEventListener('error', () =>
      reject(new ApiError('UNAVAILABLE', 'the upload was interrupted', 0, { interrupted: true })),
    );
    xhr.addEventListener('abort', () => reject(new DOMException('the upload was cancelled', 'AbortError')));
    options.signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

const t = messages({
  en: {
    video: 'video',
    cover: 'cover',
    picture: 'picture',
    file: 'file',
    cancelled: 'Upload cancelled.',
    tooLarge: (what: string, max: string) =>
      `This ${what} is too large for this server${max ? ` (at most ${max})` : ''}.`,
    interrupted: (what: string) =>
      `The upload stopped before the ${what} was sent: the connection dropped, or the file is larger than this server accepts.`,
    unusable: (what: string) => `This file cannot be used as a ${what}.`,
    unavailable: 'Video and image processing is not available on this server right now.',
    full: (what: string) => `This content cannot take another ${what}.`,
    expired: 'Your sign-in has expired: sign in again.',
    forbidden: 'Only the creator of this content can change it.',
    gone: 'This content does not exist any more.',
    failed: (what: string) => `The ${what} could not be uploaded. Try again.`,
  },
  'zh-CN': {
    video: '视频',
    cover: '封面',
    picture: '头像',
    file: '文件',
    cancelled: '上传已取消。',
    tooLarge: (what: string, max: string) => `这个${what}太大了，超出了服务器的限制${max ? `（最大 ${max}）` : ''}。`,
    interrupted: (what: string) => `${what}还没传完上传就中断了：网络断开了，或者文件超出了服务器允许的大小。`,
    unusable: (what: string) => `这个文件不能用作${what}。`,
    unavailable: '服务器暂时无法处理视频和图片。',
    full: (what: string) => `这个内容不能再添加${what}了。`,
    expired: '登录已过期，请重新登录。',
    forbidden: '只有内容的创作者才能修改它。',
    gone: '这个内容已经不存在了。',
    failed: (what: string) => `${what}上传失败，请重试。`,
  },
});

/** What is being uploaded, as the words for a refusal name it. */
export type UploadWhat = 'video' | 'cover' | 'picture' | 'file';

/** Why an upload was refused, in words. */
export function describeUploadError(err: unknown, what: UploadWhat): string {
  const e = err as { code?: string; details?: { maxBytes?: unknown; interrupted?: unknown }; name?: string };
  const noun = t[what];
  if (e?.name === 'AbortError') return t.cancelled;
  if (e?.code === 'PAYLOAD_TOO_LARGE') {
    return t.tooLarge(noun, typeof e.details?.maxBytes === 'number' ? fileSize(e.details.maxBytes) : '');
  }
  if (e?.details?.interrupted) return t.interrupted(noun);
  if (e?.code === 'INVALID_ARGUMENT') return t.unusable(noun);
  if (e?.code === 'UNAVAILABLE') return t.unavailable;
  if (e?.code === 'CONFLICT') return t.full(noun);
  if (e?.code === 'UNAUTHENTICATED') return t.expired;
  if (e?.code === 'FORBIDDEN') return t.forbidden;
  if (e?.code === 'NOT_FOUND') return t.gone;
  return t.failed(noun);
}
