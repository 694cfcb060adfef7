import type { MediaErrorCode } from '../../protocol';

export type MediaToolErrorCode = MediaErrorCode | 'NOT_AN_IMAGE' | 'FFMPEG_FAILED';

/** Codes that blame the input: retrying the same file cannot help. */
const PERMANENT: ReadonlySet<MediaToolErrorCode> = new Set([
  'NOT_A_VIDEO',
  'CORRUPT',
  'TOO_LONG',
  'EMPTY_RECORDING',
  'NOT_AN_IMAGE',
]);

/**
 * A media tool failed. `permanent`: the input is at fault (retrying cannot help); otherwise the
 * failure is transient (ffmpeg crashed or was killed, could not start, the disk filled up) and the
 * job may be tried again. `aborted`: the caller's AbortSignal stopped it.
 */
export class MediaToolError extends Error {
  readonly code: MediaToolErrorCode;
  readonly permanent: boolean;
  readonly aborted: boolean;
  /** The end of the tool's stderr (at most ~4 KB), for logs; never for end users. */
  readonly stderr: string;
  /** The tool's exit code; null when it was killed by a signal or never started. */
  readonly exitCode: number | null;

  constructor(
    code: MediaToolErrorCode,
    message: string,
    options: {
      cause?: unknown;
      permanent?: boolean;
      aborted?: boolean;
      stderr?: string;
      exitCode?: number | null;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'MediaToolError';
    this.code = code;
    this.permanent = options.permanent ?? PERMANENT.has(code);
    this.aborted = options.aborted ?? false;
    this.stderr = options.stderr ?? '';
    this.exitCode = options.exitCode ?? null;
  }
}

export const isMediaToolError = (err: unknown): err is MediaToolError => err instanceof MediaToolError;
