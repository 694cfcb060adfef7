import type { MediaInfo } from '../../../protocol';
import { messages } from './i18n';

/** What a video's state means to a person: while it is being made, and why it failed. */

const t = messages({
  en: {
    NOT_A_VIDEO: 'This file is not a video that can be read. Try an MP4, MOV, MKV or WebM file.',
    CORRUPT: 'The video is damaged: it could not be read to the end. Export it again and upload the new file.',
    TOO_LONG: 'The video is longer than this server accepts. Split it into shorter lessons.',
    EMPTY_RECORDING: 'Nothing usable was recorded during the stream.',
    PROCESSING_FAILED: 'The video could not be prepared, even after several tries. Upload it again.',
    recording: 'The stream is still being recorded.',
    queued: 'The video is waiting its turn to be prepared…',
    preparing: (percent: string) => `Preparing the video…${percent}`,
    ready: 'Ready',
    failed: 'Failed',
    recordingShort: 'Recording',
    queuedShort: 'Queued',
    preparingShort: 'Preparing',
    preparingPercent: (n: number) => `Preparing ${n}%`,
  },
  'zh-CN': {
    NOT_A_VIDEO: '这个文件不是可读取的视频，请换成 MP4、MOV、MKV 或 WebM 文件。',
    CORRUPT: '视频已损坏，无法完整读取。请重新导出后上传新文件。',
    TOO_LONG: '视频超过了服务器允许的时长，请拆分成更短的课程。',
    EMPTY_RECORDING: '这场直播没有录到可用的内容。',
    PROCESSING_FAILED: '多次尝试后视频仍无法处理，请重新上传。',
    recording: '直播仍在录制中。',
    queued: '视频正在排队等待处理…',
    preparing: (percent: string) => `正在处理视频…${percent}`,
    ready: '已就绪',
    failed: '失败',
    recordingShort: '录制中',
    queuedShort: '排队中',
    preparingShort: '处理中',
    preparingPercent: (n: number) => `处理中 ${n}%`,
  },
});

type FailureCode = 'NOT_A_VIDEO' | 'CORRUPT' | 'TOO_LONG' | 'EMPTY_RECORDING' | 'PROCESSING_FAILED';
const FAILURES: readonly string[] = ['NOT_A_VIDEO', 'CORRUPT', 'TOO_LONG', 'EMPTY_RECORDING', 'PROCESSING_FAILED'];

export function failureText(media: Pick<MediaInfo, 'error'>): string {
  const code = media.error?.code ?? 'PROCESSING_FAILED';
  return FAILURES.includes(code) ? t[code as FailureCode] : t.PROCESSING_FAILED;
}

/** "Preparing the video… 40%" and the like, for a video that is not ready yet. */
export function processingText(media: Pick<MediaInfo, 'stage' | 'progress'>): string {
  if (media.stage === 'recording') return t.recording;
  if (media.stage === 'queued') return t.queued;
  const percent = media.progress !== undefined ? ` ${Math.round(media.progress * 100)}%` : '';
  return t.preparing(percent);
}

/** One short line for lists: "Ready", "Preparing 40%", "Failed". */
export function statusLabel(media: Pick<MediaInfo, 'status' | 'stage' | 'progress'>): string {
  if (media.status === 'ready') return t.ready;
  if (media.status === 'failed') return t.failed;
  if (media.stage === 'recording') return t.recordingShort;
  if (media.stage === 'queued') return t.queuedShort;
  return media.progress !== undefined ? t.preparingPercent(Math.round(media.progress * 100)) : t.preparingShort;
}
