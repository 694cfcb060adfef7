import { captureMedia, listMediaDevices, type PublishTracks } from '@lectern/client-sdk/media';
import { h } from './dom';
import { messages } from './i18n';

const t = messages({
  en: { device: (n: number) => `Device ${n}`, noCamera: 'No camera', noMicrophone: 'No microphone' },
  'zh-CN': { device: (n: number) => `设备 ${n}`, noCamera: '不使用摄像头', noMicrophone: '不使用麦克风' },
});

type Source = 'camera' | 'microphone' | 'screen';

/**
 * The studio's own camera, microphone and screen: capture, device choice, and the local
 * preview (the screen big with the camera in a corner while sharing). Tells the studio when a
 * track changes so a live publication can swap it in.
 */
export class LocalMedia {
  private readonly tracks: PublishTracks = {};

  constructor(
    private readonly preview: HTMLVideoElement,
    private readonly pip: HTMLVideoElement,
    private readonly onChange: (source: keyof PublishTracks, track: MediaStreamTrack | null) => void,
  ) {}

  current(): PublishTracks {
    return { ...this.tracks };
  }

  has(source: Source): boolean {
    return this.tracks[source]?.readyState === 'live';
  }

  /**
   * Opens the default camera and microphone with one permission prompt; if that fails (one of
   * them is missing or refused), tries each alone. Returns what could not be opened, and why.
   */
  async start(): Promise<[string, unknown][]> {
    try {
      const { camera, microphone } = await captureMedia({ camera: true, microphone: true });
      this.set('camera', camera ?? null);
      this.set('microphone', microphone ?? null);
      return [];
    } catch {
      const failures: [string, unknown][] = [];
      await this.useCamera('').catch((err) => failures.push(['Camera', err]));
      await this.useMicrophone('').catch((err) => failures.push(['Microphone', err]));
      return failures;
    }
  }

  /** Switches the camera (`null`: none). */
  async useCamera(deviceId: string | null): Promise<void> {
    await this.use('camera', deviceId);
  }

  /** Switches the microphone (`null`: none). */
  async useMicrophone(deviceId: string | null): Promise<void> {
    await this.use('microphone', deviceId);
  }

  /** Asks the browser for a screen to share; resolves false if the person declined. */
  async shareScreen(): Promise<boolean> {
    let captured: PublishTracks;
    try {
      captured = await captureMedia({ screen: true });
    } catch (err) {
      if ((err as Error).name === 'NotAllowedError') return false;
      throw err;
    }
    this.set('screen', captured.screen ?? null);
    this.set('screenAudio', captured.screenAudio ?? null);
    // The browser's own "Stop sharing" button ends the track.
    captured.screen?.addEventListener('ended', () => this.stopScreen());
    return true;
  }

  stopScreen(): void {
    this.set('screen', null);
    this.set('screenAudio', null);
  }

  /** Fills the device pickers (labels appear once the browser has granted access). */
  async fillPickers(cameras: HTMLSelectElement, microphones: HTMLSelectElement): Promise<void> {
    const devices = await listMediaDevices();
    const options = (list: MediaDeviceInfo[], none: string, current?: MediaStreamTrack) => {
      const selected = current?.getSettings().deviceId;
      return [
        ...list.map((d, i) =>
          h('option', { value: d.deviceId, selected: d.deviceId === selected }, d.label || t.device(i + 1)),
        ),
        h('option', { value: '', selected: !current }, none),
      ];
    };
    cameras.replaceChildren(...options(devices.cameras, t.noCamera, this.tracks.camera));
    microphones.replaceChildren(...options(devices.microphones, t.noMicrophone, this.tracks.microphone));
  }

  /** Stops every captured track (leaving the studio). */
  stopAll(): void {
    for (const source of Object.keys(this.tracks) as (keyof PublishTracks)[]) this.set(source, null);
  }

  private async use(source: 'camera' | 'microphone', deviceId: string | null): Promise<void> {
    if (deviceId === null) return this.set(source, null);
    const choice = deviceId || true;
    const captured = await captureMedia(source === 'camera' ? { camera: choice } : { microphone: choice });
    this.set(source, captured[source] ?? null);
  }

  private set(source: keyof PublishTracks, track: MediaStreamTrack | null): void {
    const previous = this.tracks[source];
    if (previous === track) return;
    if (track) this.tracks[source] = track;
    else delete this.tracks[source];
    previous?.stop();
    this.renderPreview();
    this.onChange(source, track);
  }

  private renderPreview(): void {
    const { camera, screen } = this.tracks;
    const main = screen ?? camera;
    this.preview.srcObject = main ? new MediaStream([main]) : null;
    const corner = screen && camera ? camera : undefined;
    this.pip.srcObject = corner ? new MediaStream([corner]) : null;
    this.pip.hidden = !corner;
  }
}
