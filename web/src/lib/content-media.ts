import type { Attachment, Content, MediaInfo } from '../../../protocol';
import { api } from './api';
import { busy, h, show } from './dom';
import { describeError } from './errors';
import { duration, fileSize } from './format';
import { messages } from './i18n';
import { failureText, processingText } from './media-status';
import { Player } from './player';
import { coverOf } from './shell';
import { toast } from './toast';
import { describeUploadError, uploadFile } from './upload';

/**
 * The content manager's panels for what a content carries besides its text: a lesson's video
 * (upload with progress, packaging progress, a preview), the cover image, and attachments.
 */

const t = messages({
  en: {
    uploading: (what: string, percent: number, sent: string, total: string) =>
      `Uploading the ${what}: ${percent}% · ${sent} of ${total}`,
    theVideo: 'video',
    theImage: 'image',
    theFile: 'file',
    videoProgress: 'Video progress',
    removeVideo: 'Remove video',
    videoFile: 'Video file',
    uploadVideo: 'Upload video',
    replaceVideo: 'Replace video',
    video: 'Video',
    videoHint:
      'MP4, MOV, MKV or WebM. It is prepared for streaming after the upload: that takes about as long as the video for large files.',
    stateNotLoaded: 'The video’s state could not be loaded.',
    noVideo: 'No video yet.',
    ready: 'Ready',
    failed: 'Failed',
    nothingKept: 'Nothing of it was kept. Choose another file to try again.',
    canLeave: 'You can leave this page: it carries on without you.',
    notAVideo: 'That file is not a video. Choose an MP4, MOV, MKV or WebM file.',
    keepOpen: 'Keep this page open until the upload is done.',
    videoRemoved: 'Video removed.',
    coverUpload: 'Cover upload',
    coverImage: 'Cover image',
    uploadCover: 'Upload cover',
    cover: 'Cover',
    coverHint: 'PNG, JPEG, WebP or GIF; shown at 16:9, up to 1280×720.',
    coverTypes: 'A cover is a PNG, JPEG, WebP or GIF image.',
    coverSaved: 'Cover saved.',
    fileUpload: 'File upload',
    addFile: 'Add a file',
    attachFile: 'Attach file',
    files: 'Files',
    filesHint: 'Slides, worksheets, handouts: PDF files and images, for buyers to download.',
    noFiles: 'No files yet.',
    remove: 'Remove',
    removeNamed: (name: string) => `Remove ${name}`,
    fileTypes: 'Files are PDF documents or PNG, JPEG, WebP or GIF images.',
    attached: (name: string) => `${name} attached.`,
    removed: (name: string) => `${name} removed.`,
  },
  'zh-CN': {
    uploading: (what: string, percent: number, sent: string, total: string) =>
      `正在上传${what}：${percent}% · 已传 ${sent}，共 ${total}`,
    theVideo: '视频',
    theImage: '图片',
    theFile: '文件',
    videoProgress: '视频进度',
    removeVideo: '删除视频',
    videoFile: '视频文件',
    uploadVideo: '上传视频',
    replaceVideo: '替换视频',
    video: '视频',
    videoHint: '支持 MP4、MOV、MKV 或 WebM。上传后会转成适合在线播放的格式：大文件需要的时间与视频时长差不多。',
    stateNotLoaded: '视频状态加载失败。',
    noVideo: '还没有视频。',
    ready: '已就绪',
    failed: '失败',
    nothingKept: '这次上传的内容没有保留，请选择其他文件重试。',
    canLeave: '你可以离开这个页面，处理会在后台继续。',
    notAVideo: '这个文件不是视频，请选择 MP4、MOV、MKV 或 WebM 文件。',
    keepOpen: '上传完成前请不要关闭这个页面。',
    videoRemoved: '视频已删除。',
    coverUpload: '封面上传',
    coverImage: '封面图片',
    uploadCover: '上传封面',
    cover: '封面',
    coverHint: '支持 PNG、JPEG、WebP 或 GIF，按 16:9 显示，最大 1280×720。',
    coverTypes: '封面需要是 PNG、JPEG、WebP 或 GIF 图片。',
    coverSaved: '封面已保存。',
    fileUpload: '文件上传',
    addFile: '添加文件',
    attachFile: '上传资料',
    files: '资料',
    filesHint: '课件、练习、讲义：PDF 文件和图片，供购买者下载。',
    noFiles: '还没有资料。',
    remove: '删除',
    removeNamed: (name: string) => `删除 ${name}`,
    fileTypes: '资料需要是 PDF 文档，或 PNG、JPEG、WebP、GIF 图片。',
    attached: (name: string) => `已添加 ${name}。`,
    removed: (name: string) => `已删除 ${name}。`,
  },
});

const POLL_MS = 1500;
const ATTACHMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'image/gif'];
const COVER_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

let fieldIds = 0;
/** A file input with its label, and the button that sends the chosen file. */
function filePicker(label: string, accept: string, action: string) {
  const id = `file-${++fieldIds}`;
  const input = h('input', { type: 'file', id, name: id, accept });
  const button = h('button', { type: 'button', class: 'primary', disabled: true }, action);
  input.addEventListener('change', () => {
    button.disabled = !input.files?.length;
  });
  const field = h('div', { class: 'form' }, h('label', { for: id }, label, input), h('div', {}, button));
  return { input, button, field };
}

/** Bytes going up: "Uploading 45% · 12.0 MB of 26.7 MB". */
function uploadProgress(bar: HTMLProgressElement, text: HTMLElement, what: string) {
  return (sent: number, total: number) => {
    bar.value = total ? sent / total : 0;
    text.textContent = t.uploading(
      what,
      Math.round((100 * sent) / Math.max(1, total)),
      fileSize(sent),
      fileSize(total),
    );
  };
}

export class VideoPanel {
  readonly element: HTMLElement;
  private readonly status = h('p', { role: 'status', 'aria-live': 'polite' });
  private readonly bar = h('progress', { max: 1, value: 0, 'aria-label': t.videoProgress, hidden: true });
  private readonly detail = h('p', { class: 'muted small' });
  private readonly previewSlot = h('div');
  private readonly remove = h('button', { type: 'button', class: 'ghost small', hidden: true }, t.removeVideo);
  private readonly picker = filePicker(t.videoFile, 'video/*', t.uploadVideo);
  private player: Player | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private uploading = false;

  constructor(
    private content: Content,
    private readonly onChange: (media: MediaInfo | null) => void = () => {},
  ) {
    this.element = h(
      'section',
      { class: 'card panel-video', 'aria-labelledby': 'video-heading' },
      h('h2', { id: 'video-heading' }, t.video),
      h('div', { class: 'upload-status' }, this.status, this.bar, this.detail),
      this.previewSlot,
      this.picker.field,
      h('p', { class: 'muted small' }, t.videoHint),
      this.remove,
    );
    this.picker.button.addEventListener('click', () => {
      const file = this.picker.input.files?.[0];
      if (!file) return;
      void busy(this.picker.button, () => this.upload(file)).then(() => {
        // Enabled again only when another file is chosen.
        this.picker.button.disabled = !this.picker.input.files?.length;
      });
    });
    this.remove.addEventListener('click', () => void busy(this.remove, () => this.removeVideo()));
  }

  async refresh(): Promise<void> {
    if (!this.content.hasVideo) return this.render(null);
    try {
      this.render((await api<{ media: MediaInfo }>('GET', `/api/contents/${this.content.id}/media`)).media);
    } catch (err) {
      if ((err as { code?: string }).code === 'NOT_FOUND') this.render(null);
      else this.status.textContent = `${t.stateNotLoaded} ${describeError(err)}`;
    }
  }

  private render(media: MediaInfo | null): void {
    clearTimeout(this.pollTimer);
    this.onChange(media);
    show(this.bar, false);
    this.detail.textContent = '';
    this.element.dataset.status = media?.status ?? 'none';
    show(this.remove, !!media && media.status !== 'processing');
    this.picker.button.textContent = media && media.status !== 'failed' ? t.replaceVideo : t.uploadVideo;
    this.picker.button.disabled = this.uploading || !this.picker.input.files?.length;
    if (!media) {
      this.status.textContent = t.noVideo;
      this.setPreview(null);
      return;
    }
    if (media.status === 'ready') {
      this.status.replaceChildren(h('span', { class: 'badge done' }, t.ready), ' ');
      this.status.append(
        [media.durationSeconds ? duration(media.durationSeconds) : null, media.height ? `${media.height}p` : null]
          .filter(Boolean)
          .join(' · '),
      );
      this.setPreview(media);
      return;
    }
    this.setPreview(null);
    if (media.status === 'failed') {
      this.status.replaceChildren(h('span', { class: 'badge failed' }, t.failed), ' ', failureText(media));
      this.detail.textContent = t.nothingKept;
      return;
    }
    this.status.textContent = processingText(media);
    if (media.progress !== undefined && media.stage === 'packaging') {
      this.bar.value = media.progress;
      show(this.bar, true);
    }
    this.detail.textContent = t.canLeave;
    this.pollTimer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  private setPreview(media: MediaInfo | null): void {
    if (!media) {
      this.player?.destroy();
      this.player = undefined;
      this.previewSlot.replaceChildren();
      return;
    }
    if (!this.player) {
      // The creator's own preview: no progress kept, no watch time counted.
      this.player = new Player({ signedIn: true, remember: false, autoplay: false });
      this.previewSlot.replaceChildren(this.player.element);
      void this.player.load({
        target: { contentId: this.content.id },
        media,
        fetchMedia: () =>
          api<{ media: MediaInfo }>('GET', `/api/contents/${this.content.id}/media`).then((r) => r.media),
        poster: this.content.coverUrl,
      });
    }
  }

  private async upload(file: File): Promise<void> {
    if (this.uploading) return;
    if (file.type && !file.type.startsWith('video/')) {
      this.status.textContent = t.notAVideo;
      return;
    }
    this.uploading = true;
    clearTimeout(this.pollTimer);
    this.setPreview(null);
    show(this.remove, false);
    this.bar.value = 0;
    show(this.bar, true);
    this.detail.textContent = t.keepOpen;
    try {
      const { media } = await uploadFile<{ media: MediaInfo }>(`/api/contents/${this.content.id}/media`, file, {
        onProgress: uploadProgress(this.bar, this.status, t.theVideo),
        kind: 'video',
      });
      this.content = { ...this.content, hasVideo: true };
      this.picker.input.value = '';
      this.uploading = false;
      this.render(media);
    } catch (err) {
      show(this.bar, false);
      this.detail.textContent = '';
      this.status.textContent = describeUploadError(err, 'video');
    } finally {
      this.uploading = false;
    }
  }

  private async removeVideo(): Promise<void> {
    try {
      await api('DELETE', `/api/contents/${this.content.id}/media`);
      this.content = { ...this.content, hasVideo: false };
      this.render(null);
      toast(t.videoRemoved, 'success');
    } catch (err) {
      toast(describeError(err), 'error');
    }
  }
}

export class CoverPanel {
  readonly element: HTMLElement;
  private readonly image = h('div', { class: 'cover-preview' });
  private readonly status = h('p', { class: 'muted small', role: 'status' });
  private readonly bar = h('progress', { max: 1, value: 0, 'aria-label': t.coverUpload, hidden: true });
  private readonly picker = filePicker(t.coverImage, COVER_TYPES.join(','), t.uploadCover);

  constructor(private content: Content) {
    this.element = h(
      'section',
      { class: 'card', 'aria-labelledby': 'cover-heading' },
      h('h2', { id: 'cover-heading' }, t.cover),
      this.image,
      this.picker.field,
      this.bar,
      this.status,
      h('p', { class: 'muted small' }, t.coverHint),
    );
    this.showImage();
    this.picker.button.addEventListener('click', () => {
      const file = this.picker.input.files?.[0];
      if (!file) return;
      void busy(this.picker.button, () => this.upload(file)).then(() => {
        // Enabled again only when another file is chosen.
        this.picker.button.disabled = !this.picker.input.files?.length;
      });
    });
  }

  private showImage(): void {
    this.image.replaceChildren(coverOf(this.content.coverUrl, this.content.title));
  }

  private async upload(file: File): Promise<void> {
    if (!COVER_TYPES.includes(file.type)) {
      this.status.textContent = t.coverTypes;
      return;
    }
    show(this.bar, true);
    try {
      const { coverUrl } = await uploadFile<{ coverUrl: string }>(`/api/contents/${this.content.id}/cover`, file, {
        onProgress: uploadProgress(this.bar, this.status, t.theImage),
        kind: 'cover',
      });
      this.content = { ...this.content, coverUrl };
      this.showImage();
      this.status.textContent = t.coverSaved;
      this.picker.input.value = '';
      this.picker.button.disabled = true;
    } catch (err) {
      this.status.textContent = describeUploadError(err, 'cover');
    } finally {
      show(this.bar, false);
    }
  }
}

export class AttachmentsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'files' });
  private readonly status = h('p', { class: 'muted small', role: 'status' });
  private readonly bar = h('progress', { max: 1, value: 0, 'aria-label': t.fileUpload, hidden: true });
  private readonly picker = filePicker(t.addFile, ATTACHMENT_TYPES.join(','), t.attachFile);

  constructor(
    private readonly contentId: string,
    private attachments: Attachment[],
  ) {
    this.element = h(
      'section',
      { class: 'card', 'aria-labelledby': 'files-heading' },
      h('h2', { id: 'files-heading' }, t.files),
      h('p', { class: 'muted small' }, t.filesHint),
      this.list,
      this.picker.field,
      this.bar,
      this.status,
    );
    this.renderList();
    this.picker.button.addEventListener('click', () => {
      const file = this.picker.input.files?.[0];
      if (!file) return;
      void busy(this.picker.button, () => this.upload(file)).then(() => {
        // Enabled again only when another file is chosen.
        this.picker.button.disabled = !this.picker.input.files?.length;
      });
    });
  }

  private renderList(): void {
    if (!this.attachments.length) {
      this.list.replaceChildren(h('li', { class: 'muted' }, t.noFiles));
      return;
    }
    this.list.replaceChildren(
      ...this.attachments.map((a) => {
        const remove = h(
          'button',
          { type: 'button', class: 'ghost small', 'aria-label': t.removeNamed(a.filename) },
          t.remove,
        );
        remove.addEventListener('click', () => void busy(remove, () => this.removeOne(a)));
        return h(
          'li',
          {},
          a.url ? h('a', { href: a.url, target: '_blank', rel: 'noopener' }, a.filename) : h('span', {}, a.filename),
          h('span', { class: 'row buttons' }, h('span', { class: 'muted small' }, fileSize(a.bytes)), remove),
        );
      }),
    );
  }

  private async upload(file: File): Promise<void> {
    if (!ATTACHMENT_TYPES.includes(file.type)) {
      this.status.textContent = t.fileTypes;
      return;
    }
    show(this.bar, true);
    try {
      const { attachment } = await uploadFile<{ attachment: Attachment }>(
        `/api/contents/${this.contentId}/attachments?filename=${encodeURIComponent(file.name.slice(0, 200))}`,
        file,
        { onProgress: uploadProgress(this.bar, this.status, t.theFile), kind: 'attachment' },
      );
      this.attachments = [...this.attachments, attachment];
      this.renderList();
      this.status.textContent = t.attached(attachment.filename);
      this.picker.input.value = '';
      this.picker.button.disabled = true;
    } catch (err) {
      this.status.textContent = describeUploadError(err, 'file');
    } finally {
      show(this.bar, false);
    }
  }

  private async removeOne(attachment: Attachment): Promise<void> {
    try {
      await api('DELETE', `/api/contents/${this.contentId}/attachments/${attachment.id}`);
      this.attachments = this.attachments.filter((a) => a.id !== attachment.id);
      this.renderList();
      this.status.textContent = t.removed(attachment.filename);
    } catch (err) {
      toast(describeError(err), 'error');
    }
  }
}
