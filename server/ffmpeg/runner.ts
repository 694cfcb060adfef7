import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import path from 'node:path';
import { MediaToolError } from './errors';
import type { FfmpegOptions } from './options';

/** Enough of stderr to say why a tool failed, without holding a chatty run's whole log. */
const STDERR_TAIL_BYTES = 4096;
/** ffprobe's JSON for any sane file is far below this; a bigger one is a hostile input. */
const STDOUT_CAPTURE_LIMIT = 16 * 1024 * 1024;
/** Media jobs are background work on a node that also forwards live media: let the live side win. */
export const DEFAULT_NICENESS = 10;

export interface RunOptions {
  signal?: AbortSignal;
  /** Every complete stdout line, as it arrives (ffmpeg's `-progress` blocks, ffprobe's CSV rows). */
  onStdoutLine?: (line: string) => void;
  /** Keep stdout and resolve with it (ffprobe's JSON). */
  captureStdout?: boolean;
  /** Added to the process's nice value; 0 leaves it as it is. */
  niceness?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** The last `max` characters of a growing text. */
class Tail {
  private text = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.slice(-this.max);
  }
}

const lastLine = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .pop() ?? '';

/**
 * Runs a tool with an argument array (never through a shell, so file names are never parsed),
 * stdin closed. Resolves when it exits 0; otherwise rejects with a transient FFMPEG_FAILED
 * MediaToolError carrying the exit code and the end of stderr, which the callers reclassify
 * (NOT_A_VIDEO, CORRUPT…) when the input is to blame. Aborting kills the process (SIGKILL: its
 * output is thrown away anyway) and rejects once it is gone.
 */
export function runTool(bin: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal } = options;
  const name = bin.split('/').pop() || bin;
  if (signal?.aborted) {
    return Promise.reject(
      new MediaToolError('FFMPEG_FAILED', `${name} aborted before it started`, { aborted: true, cause: signal.reason }),
    );
  }
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr = new Tail(STDERR_TAIL_BYTES);
    const stdoutChunks: string[] = [];
    let stdoutBytes = 0;
    let partialLine = '';
    let spawnError: NodeJS.ErrnoException | null = null;
    let aborted = false;
    let overflow = false;

    const niceness = options.niceness ?? 0;
    if (niceness !== 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, niceness);
      } catch {
        // Not allowed (a container without CAP_SYS_NICE may refuse): run at normal priority.
      }
    }

    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (options.captureStdout) {
        stdoutBytes += chunk.length;
        if (stdoutBytes > STDOUT_CAPTURE_LIMIT) {
          overflow = true;
          child.kill('SIGKILL');
          return;
        }
        stdoutChunks.push(chunk);
      }
      if (options.onStdoutLine) {
        const lines = (partialLine + chunk).split('\n');
        partialLine = lines.pop() ?? '';
        for (const line of lines) options.onStdoutLine(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => stderr.push(chunk));

    child.on('error', (err: NodeJS.ErrnoException) => {
      // A spawn failure (ENOENT, EACCES) still ends with 'close'; remember why.
      spawnError ??= err;
    });
    child.on('close', (code, killedBy) => {
      signal?.removeEventListener('abort', onAbort);
      if (partialLine && options.onStdoutLine) options.onStdoutLine(partialLine);
      const tail = stderr.toString();
      if (aborted) {
        reject(new MediaToolError('FFMPEG_FAILED', `${name} aborted`, { aborted: true, cause: signal?.reason }));
      } else if (spawnError) {
        const message =
          spawnError.code === 'ENOENT'
            ? `${name} not found at '${bin}' (apt-get install ffmpeg)`
            : `${name} could not start: ${spawnError.message}`;
        reject(new MediaToolError('FFMPEG_FAILED', message, { cause: spawnError }));
      } else if (overflow) {
        reject(new MediaToolError('FFMPEG_FAILED', `${name} wrote more than ${STDOUT_CAPTURE_LIMIT} bytes`));
      } else if (code !== 0) {
        const why = killedBy ? `was killed by ${killedBy}` : `exited with code ${code}: ${lastLine(tail)}`;
        reject(new MediaToolError('FFMPEG_FAILED', `${name} ${why}`, { stderr: tail, exitCode: code }));
      } else {
        resolve({ stdout: stdoutChunks.join(''), stderr: tail });
      }
    });
  });
}

export interface FfmpegRunOptions {
  signal?: AbortSignal;
  /** The output time reached (seconds), at each `-progress` report (twice a second). */
  onOutTime?: (seconds: number) => void;
}

/**
 * ffmpeg with the flags every caller wants: quiet except errors (so stderr is the failure's
 * story), progress as key=value blocks on stdout, stdin closed (ffmpeg reads keys otherwise).
 */
export function runFfmpeg(opts: FfmpegOptions, args: readonly string[], run: FfmpegRunOptions = {}) {
  const { onOutTime } = run;
  return runTool(
    opts.ffmpegPath,
    ['-nostdin', '-hide_banner', '-v', 'error', '-nostats', '-progress', 'pipe:1', ...args],
    {
      signal: run.signal,
      niceness: opts.niceness ?? DEFAULT_NICENESS,
      onStdoutLine: onOutTime
        ? (line) => {
            // out_time_us is microseconds (out_time_ms is too, despite its name); N/A before the first frame.
            const match = /^out_time_us=(\d+)$/.exec(line.trim());
            if (match) onOutTime(Number(match[1]) / 1e6);
          }
        : undefined,
    },
  );
}

export function runFfprobe(
  opts: FfmpegOptions,
  args: readonly string[],
  run: { signal?: AbortSignal; onStdoutLine?: (line: string) => void } = {},
) {
  return runTool(opts.ffprobePath, ['-hide_banner', '-v', 'error', ...args], {
    signal: run.signal,
    niceness: opts.niceness ?? DEFAULT_NICENESS,
    captureStdout: !run.onStdoutLine,
    onStdoutLine: run.onStdoutLine,
  });
}

/** Does a failed run's stderr say the machine, not the input, is at fault (disk full, no memory)? */
export const isResourceFailure = (stderr: string) =>
  /No space left on device|Cannot allocate memory|Too many open files|Disk quota exceeded|Read-only file system|Permission denied/i.test(
    stderr,
  );

/** A file path as an ffmpeg URL: a name such as `concat:x` or `http:…` must never be read as a protocol. */
export const fileUrl = (file: string) => `file:${path.resolve(file)}`;
