import { Device } from 'mediasoup-client';
import type { IceParameters, RtpCapabilities, Transport, TransportOptions } from 'mediasoup-client/types';
import type { MediaJoinResult, MediaSource, TransportDirection } from '../../../protocol';
import type { LecternClient } from '../client';

/** How long a transport may stay `disconnected` before we restart ICE rather than wait it out. */
const DISCONNECTED_GRACE_MS = 3000;
/** ICE restarts tried in a row without reconnecting before the whole link is given up. */
const MAX_ICE_RESTARTS = 2;

/**
 * One attempt at a room's media: `media:join`, a mediasoup-client `Device` loaded with the
 * room's router capabilities, and the transports made for it. A reset, a lost transport or new
 * access replaces the whole link rather than repairing it piecemeal: that is the only state
 * the server and the browser are sure to agree on.
 */
export class MediaLink {
  private readonly transports = new Set<Transport>();
  private closed = false;

  private constructor(
    private readonly client: LecternClient,
    readonly roomId: string,
    readonly joined: MediaJoinResult,
    readonly device: Device,
  ) {}

  /** Joins the room's media plane (the connection must have joined the room) and loads a device. */
  static async open(client: LecternClient, roomId: string): Promise<MediaLink> {
    const joined = await client.request('media:join', { roomId });
    const device = new Device();
    await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities as unknown as RtpCapabilities });
    return new MediaLink(client, roomId, joined, device);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A transport wired to the server's signalling. `onLost` runs once if ICE cannot be restored
   * (or the server no longer knows the transport): the owner should then open a new link.
   */
  async createTransport(direction: TransportDirection, onLost: (reason: unknown) => void): Promise<Transport> {
    const { roomId, client } = this;
    const options = await client.request('media:transport:create', { roomId, direction });
    if (this.closed) throw new Error('media link closed');
    const params = options as unknown as TransportOptions;
    const transport =
      direction === 'send' ? this.device.createSendTransport(params) : this.device.createRecvTransport(params);
    this.transports.add(transport);
    transport.observer.on('close', () => this.transports.delete(transport));

    transport.on('connect', ({ dtlsParameters }, done, fail) => {
      client
        .request('media:transport:connect', { roomId, transportId: transport.id, dtlsParameters })
        .then(() => done(), fail);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
        client
          .request('media:produce', {
            roomId,
            transportId: transport.id,
            kind,
            rtpParameters: rtpParameters as unknown as Record<string, unknown>,
            source: appData.source as MediaSource,
          })
          .then(({ producerId }) => done({ id: producerId }), fail);
      });
    }
    this.keepIceAlive(transport, onLost);
    return transport;
  }

  /**
   * Restarts ICE when the path breaks (a network change, a NAT rebinding): `failed` at once,
   * `disconnected` after a grace period since it often heals by itself.
   */
  private keepIceAlive(transport: Transport, onLost: (reason: unknown) => void): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let restarts = 0;
    let lost = false;
    const giveUp = (reason: unknown) => {
      if (lost || this.closed || transport.closed) return;
      lost = true;
      onLost(reason);
    };
    const restart = async () => {
      if (this.closed || transport.closed || lost) return;
      if (restarts >= MAX_ICE_RESTARTS) return giveUp(new Error('ICE could not be restored'));
      restarts++;
      try {
        const { iceParameters } = await this.client.request('media:transport:restart-ice', {
          roomId: this.roomId,
          transportId: transport.id,
        });
        if (!transport.closed) await transport.restartIce({ iceParameters: iceParameters as unknown as IceParameters });
      } catch (err) {
        giveUp(err);
      }
    };
    transport.on('connectionstatechange', (state) => {
      clearTimeout(timer);
      if (state === 'connected') restarts = 0;
      else if (state === 'failed') void restart();
      else if (state === 'disconnected') timer = setTimeout(() => void restart(), DISCONNECTED_GRACE_MS);
    });
    transport.observer.on('close', () => clearTimeout(timer));
  }

  /** Closes every transport (and with them their producers and consumers). Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.transports]) t.close();
    this.transports.clear();
  }
}
