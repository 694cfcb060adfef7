import type { Attachment, Content, MediaInfo } from '../../../protocol';
import { api } from './api';
import { busy, h, show } from './dom';
import { describeError } from './errors';
import { duration, fileSize } from './format';
import { failureText, processingText } from './media-status';
import { Player } from './player';
import { coverOf } from './shell';
import { toast } from './toast';
import { describeUploadError, uploadFile } from './upload';

/**
 * The content manager's panels for what a content carries besides its text: a lesson's video
 * (upload with progress, packaging progress, a preview), the cover image, and attachments.
 */

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
    text.textContent = `Uploading the ${what}: ${Math.round((100 * sent) / Math.max(1, total))}% · ${fileSize(sent)} of ${fileSize(total)}`;
  };
}

export class VideoPanel {
  readonly element: HTMLElement;
  private readonly status = h('p', { role: 'status', 'aria-live': 'polite' });
  private readonly bar = h('progress', { max: 1, value: 0, 'aria-label': 'Video progress', hidden: true });
  private readonly detail = h('p', { class: 'muted small' });
  private readonly previewSlot = h('div');
  private readonly remove = h('button', { type: 'button', class: 'ghost small', hidden: true }, 'Remove video');
  private readonly picker = filePicker('Video file', 'video/*', 'Upload video');
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
      h('h2', { id: 'video-heading' }, 'Video'),
      h('div', { class: 'upload-status' }, this.status, this.bar, this.detail),
      this.previewSlot,
      this.picker.field,
      h(
        'p',
        { class: 'muted small' },
        'MP4, MOV, MKV or WebM. It is prepared for streaming after the upload: that takes about as long as the video for large files.',
      ),
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
      else this.status.textContent = `The video's state could not be loaded. ${describeError(err)}`;
    }
  }

  private render(media: MediaInfo | null): void {
    clearTimeout(this.pollTimer);
    this.onChange(media);
    show(this.bar, false);
    this.detail.textContent = '';
    this.element.dataset.status = media?.status ?? 'none';
    show(this.remove, !!media && media.status !== 'processing');
    this.picker.button.textContent = media && media.status !== 'failed' ? 'Replace video' : 'Upload video';
    this.picker.button.disabled = this.uploading || !this.picker.input.files?.length;
    if (!media) {
      this.status.textContent = 'No video yet.';
      this.setPreview(null);
      return;
    }
    if (media.status === 'ready') {
      this.status.replaceChildren(h('span', { class: 'badge done' }, 'Ready'), ' ');
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
      this.status.replaceChildren(h('span', { class: 'badge failed' }, 'Failed'), ' ', failureText(media));
      this.detail.textContent = 'Nothing of it was kept. Choose another file to try again.';
      return;
    }
    this.status.textContent = processingText(media);
    if (media.progress !== undefined && media.stage === 'packaging') {
      this.bar.value = media.progress;
      show(this.bar, true);
    }
    this.detail.textContent = 'You can leave this page: it carries on without you.';
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
      this.status.textContent = 'That file is not a video. Choose an MP4, MOV, MKV or WebM file.';
      return;
    }
    this.uploading = true;
    clearTimeout(this.pollTimer);
    this.setPreview(null);
    show(this.remove, false);
    this.bar.value = 0;
    show(this.bar, true);
    this.detail.textContent = 'Keep this page open until the upload is done.';
    try {
      const { media } = await uploadFile<{ media: MediaInfo }>(`/api/contents/${this.content.id}/media`, file, {
        onProgress: uploadProgress(this.bar, this.status, 'video'),
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
      toast('Video removed.', 'success');
    } catch (err) {
      toast(describeError(err), 'error');
    }
  }
}

export class CoverPanel {
  readonly element: HTMLElement;
  private readonly image = h('div', { class: 'cover-preview' });
  private readonly status = h('p', { class: 'muted small', role: 'status' });
  private readonly bar = h('progress', { max: 1, value: 0, 'aria-label': 'Cover upload', hidden: true });
  private readonly picker = filePicker('Cover image', COVER_TYPES.join(','), 'Upload cover');

  constructor(private content: Content) {
    this.element = h(
      'section',
      { class: 'card', 'aria-labelledby': 'cover-heading' },
      h('h2', { id: 'cover-heading' }, 'Cover'),
      this.image,
      this.picker.field,
      this.bar,
      this.status,
      h('p', { class: 'muted small' }, 'PNG, JPEG, WebP or GIF; shown at 16:9, up to 1280×720.'),
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
      this.status.textContent = 'A cover is a PNG, JPEG, WebP or GIF image.';
      return;
    }
    show(this.bar, true);
    try {
      const { coverUrl } = await uploadFile<{ coverUrl: string }>(`/api/contents/${this.content.id}/cover`, file, {
        onProgress: uploadProgress(this.bar, this.status, 'image'),
        kind: 'cover',
      });
      this.content = { ...this.content, coverUrl };
      this.showImage();
      this.status.textContent = 'Cover saved.';
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
  private readonly bar = h('progress', { max: 1, value: 0, 'aria-label': 'File upload', hidden: true });
  private readonly picker = filePicker('Add a file', ATTACHMENT_TYPES.join(','), 'Attach file');

  constructor(
    private readonly contentId: string,
    private attachments: Attachment[],
  ) {
    this.element = h(
      'section',
      { class: 'card', 'aria-labelledby': 'files-heading' },
      h('h2', { id: 'files-heading' }, 'Files'),
      h('p', { class: 'muted small' }, 'Slides, worksheets, handouts: PDF files and images, for buyers to download.'),
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
      this.list.replaceChildren(h('li', { class: 'muted' }, 'No files yet.'));
      return;
    }
    this.list.replaceChildren(
      ...this.attachments.map((a) => {
        const remove = h(
          'button',
          { type: 'button', class: 'ghost small', 'aria-label': `Remove ${a.filename}` },
          'Remove',
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
      this.status.textContent = 'Files are PDF documents or PNG, JPEG, WebP or GIF images.';
      return;
    }
    show(this.bar, true);
    try {
      const { attachment } = await uploadFile<{ attachment: Attachment }>(
        `/api/contents/${this.contentId}/attachments?filename=${encodeURIComponent(file.name.slice(0, 200))}`,
        file,
        { onProgress: uploadProgress(this.bar, this.status, 'file'), kind: 'attachment' },
      );
      this.attachments = [...this.attachments, attachment];
      this.renderList();
      this.status.textContent = `${attachment.filename} attached.`;
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
      this.status.textContent = `${attachment.filename} removed.`;
    } catch (err) {
      toast(describeError(err), 'error');
    }
  }
}
