import type { ServerLimits } from '../../../protocol';
import { ApiError, api, authHeaders, readResponse } from './api';
import { fileSize } from './format';

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

/** Why an upload was refused, in words. */
export function describeUploadError(err: unknown, what: string): string {
  const e = err as { code?: string; details?: { maxBytes?: unknown; interrupted?: unknown }; name?: string };
  if (e?.name === 'AbortError') return 'Upload cancelled.';
  if (e?.code === 'PAYLOAD_TOO_LARGE') {
    const max = typeof e.details?.maxBytes === 'number' ? ` (at most ${fileSize(e.details.maxBytes)})` : '';
    return `This ${what} is too large for this server${max}.`;
  }
  if (e?.details?.interrupted) {
    return `The upload stopped before the ${what} was sent: the connection dropped, or the file is larger than this server accepts.`;
  }
  if (e?.code === 'INVALID_ARGUMENT') return `This file cannot be used as a ${what}.`;
  if (e?.code === 'UNAVAILABLE') return 'Video and image processing is not available on this server right now.';
  if (e?.code === 'CONFLICT') return `This content cannot take another ${what}.`;
  if (e?.code === 'UNAUTHENTICATED') return 'Your sign-in has expired: sign in again.';
  if (e?.code === 'FORBIDDEN') return 'Only the creator of this content can change it.';
  if (e?.code === 'NOT_FOUND') return 'This content does not exist any more.';
  return `The ${what} could not be uploaded. Try again.`;
}
