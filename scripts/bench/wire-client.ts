import WebSocket from 'ws';
import type { AckResponse } from '../../protocol';

/**
 * A Socket.IO client that speaks the wire protocol itself (Engine.IO 4 over a WebSocket, the
 * default namespace) and does as little as it can: it answers pings, sends events with acks, and
 * counts the server's broadcasts without parsing them unless asked. Thousands of them fit on one
 * load-generator core, so the generator is never what a benchmark measures.
 *
 *   0{...}  open          40{auth}  connect (sent)      40{"sid"}  connected
 *   2 / 3   ping / pong   42N[...]  event with ack N    43N[...]   ack N
 *   42[...] an event from the server (a broadcast)
 */
export class WireClient {
  private nextAck = 0;
  private readonly acks = new Map<number, (response: unknown) => void>();
  /** Broadcasts received, by event name when `watch` asked for it, else all together. */
  broadcasts = 0;
  private readonly watchers = new Map<string, (payload: unknown) => void>();
  /** Sees each frame first, as bytes; returning true means it was handled (see `tap`). */
  private tapper: ((frame: Buffer) => boolean) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = data as Buffer;
      if (this.tapper?.(frame)) return;
      // A broadcast (`42[`) nobody watches is only counted, never decoded: in a gift storm each
      // client gets ten `tip:batch` frames a second of kilobytes each, and turning them into
      // strings was 6% of the load generator's busy time (a CPU profile of a tip storm).
      if (this.watchers.size === 0 && frame[0] === 0x34 && frame[1] === 0x32 && frame[2] === 0x5b) {
        this.broadcasts++;
        return;
      }
      this.onMessage(frame.toString());
    });
    // A dropped connection fails what waits for an answer at once (the caller retries or reconnects).
    ws.on('error', () => {});
    ws.on('close', () => {
      for (const done of this.acks.values()) done(undefined);
      this.acks.clear();
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Connects (token in the handshake, with `auth` beside it, e.g. `{capabilities: [...]}`) and
   * resolves once the namespace accepted it.
   */
  static connect(
    url: string,
    token?: string,
    timeoutMs = 10_000,
    auth: Record<string, unknown> = {},
  ): Promise<WireClient> {
    const wsUrl = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      const onMessage = (data: WebSocket.RawData) => {
        const text = data.toString();
        if (text.startsWith('0')) ws.send(`40${JSON.stringify(token ? { ...auth, token } : auth)}`);
        else if (text.startsWith('40')) {
          clearTimeout(timer);
          ws.off('message', onMessage);
          resolve(new WireClient(ws));
        } else if (text.startsWith('44')) {
          clearTimeout(timer);
          ws.terminate();
          reject(new Error(`refused: ${text.slice(2)}`));
        }
      };
      ws.on('message', onMessage);
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private onMessage(text: string): void {
    const type = text.charCodeAt(0);
    if (type === 50 /* '2' ping */) {
      this.ws.send('3');
      return;
    }
    if (text.startsWith('43')) {
      const open = text.indexOf('[');
      const id = Number(text.slice(2, open));
      const done = this.acks.get(id);
      if (done) {
        this.acks.delete(id);
        done((JSON.parse(text.slice(open)) as unknown[])[0]);
      }
      return;
    }
    if (text.startsWith('42')) {
      this.broadcasts++;
      if (this.watchers.size === 0) return;
      const [event, payload] = JSON.parse(text.slice(2)) as [string, unknown];
      this.watchers.get(event)?.(payload);
    }
  }

  /** Parses broadcasts of `event` and hands them to `listener` (others are only counted). */
  watch(event: string, listener: (payload: unknown) => void): void {
    this.watchers.set(event, listener);
  }

  /**
   * Hands every frame to `listener` as bytes before anything else looks at it (pings included);
   * a frame it returns true for goes no further. For counting thousands of broadcasts a second
   * without turning each into a string.
   */
  tap(listener: (frame: Buffer) => boolean): void {
    this.tapper = listener;
  }

  /** Sends an event without asking for an answer (`42[...]`). */
  send(event: string, payload: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(`42${JSON.stringify([event, payload])}`);
  }

  emit<T>(event: string, payload: unknown, timeoutMs = 10_000): Promise<AckResponse<T>> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`no answer to ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.acks.set(id, (response) => {
        clearTimeout(timer);
        if (response === undefined) reject(new Error(`connection closed before the answer to ${event}`));
        else resolve(response as AckResponse<T>);
      });
      if (this.ws.readyState !== WebSocket.OPEN) {
        this.acks.delete(id);
        clearTimeout(timer);
        reject(new Error('not connected'));
        return;
      }
      this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  close(): void {
    this.ws.terminate();
  }
}
