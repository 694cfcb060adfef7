import WebSocket from 'ws';

/**
 * The load generator's Socket.IO client: Engine.IO 4 over a raw WebSocket, default namespace,
 * text frames only (a leaner cousin of scripts/bench/wire-client.ts, with callbacks instead of
 * promises and a raw hook for broadcasts so the caller can look at them without JSON.parse).
 *
 *   0{...}   open            40{auth}  connect (sent)   40{"sid"}  connected   44{...} refused
 *   2 / 3    ping / pong     42N[...]  event with ack N  43N[...]   ack N
 *   42[...]  an event from the server (a broadcast)
 */
export interface AckAnswer {
  ok: boolean;
  code?: string;
  data?: unknown;
}

/** Why a connection failed: a Socket.IO refusal code, an HTTP status, or a socket error code. */
export class ConnectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type AckCallback = (answer: AckAnswer | undefined, error?: string) => void;

export interface WireOptions {
  /** Called with every broadcast frame (`42[...]`) as received, unparsed. */
  onBroadcast?: (frame: string) => void;
  /** Called once when the connection drops after it was established. */
  onClose?: () => void;
  timeoutMs?: number;
}

export class LoadSocket {
  private nextAck = 0;
  private readonly acks = new Map<number, { done: AckCallback; timer: NodeJS.Timeout }>();
  private closedByUs = false;
  /** Acks whose successful answer the caller wants parsed (see `request`). */
  private readonly parsed = new Set<number>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: WireOptions,
  ) {
    ws.on('message', (data: Buffer) => this.onMessage(data.toString()));
    ws.on('close', () => {
      for (const { done, timer } of this.acks.values()) {
        clearTimeout(timer);
        done(undefined, 'DISCONNECTED');
      }
      this.acks.clear();
      if (!this.closedByUs) options.onClose?.();
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get pending(): number {
    return this.acks.size;
  }

  /**
   * Opens the WebSocket, sends the namespace connect with `auth` (the token) and calls back
   * once the server accepted it, or with a ConnectError saying why not.
   */
  static connect(
    baseUrl: string,
    auth: Record<string, unknown>,
    options: WireOptions,
    callback: (err: ConnectError | null, socket?: LoadSocket) => void,
  ): void {
    const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, skipUTF8Validation: true });
    let settled = false;
    const finish = (err: ConnectError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.off('message', onMessage);
      if (err) {
        ws.removeAllListeners('close');
        ws.on('error', () => {});
        ws.terminate();
        callback(err);
      } else callback(null, new LoadSocket(ws, options));
    };
    const timer = setTimeout(
      () => finish(new ConnectError('CONNECT_TIMEOUT', 'no connect answer in time')),
      options.timeoutMs ?? 10_000,
    );
    const onMessage = (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('0{')) ws.send(`40${JSON.stringify(auth)}`);
      else if (text.startsWith('40')) finish(null);
      else if (text.startsWith('44')) {
        let code = 'REFUSED';
        let message = text.slice(2);
        try {
          const body = JSON.parse(text.slice(2)) as { message?: string; data?: { code?: string } };
          code = body.data?.code ?? code;
          message = body.message ?? message;
        } catch {
          // keep the raw text
        }
        finish(new ConnectError(code, message));
      }
    };
    ws.on('message', onMessage);
    ws.on('unexpected-response', (_req, res) => {
      finish(new ConnectError(`HTTP_${res.statusCode}`, `the server answered the upgrade with ${res.statusCode}`));
    });
    ws.on('error', (err: NodeJS.ErrnoException) => finish(new ConnectError(err.code ?? 'SOCKET_ERROR', err.message)));
    ws.on('close', () => finish(new ConnectError('CLOSED', 'the connection closed during the handshake')));
  }

  private onMessage(text: string): void {
    const c0 = text.charCodeAt(0);
    if (c0 === 50 /* '2' ping */) {
      this.ws.send('3');
      return;
    }
    if (c0 !== 52 /* '4' message */) return;
    const c1 = text.charCodeAt(1);
    if (c1 === 50 /* '2' event */) {
      this.options.onBroadcast?.(text);
      return;
    }
    if (c1 === 51 /* '3' ack */) {
      const open = text.indexOf('[');
      const id = Number(text.slice(2, open));
      const entry = this.acks.get(id);
      if (!entry) return;
      this.acks.delete(id);
      clearTimeout(entry.timer);
      // Answers are {ok:true,data} or {ok:false,error:{code}}: only a refusal (or a request) needs parsing.
      if (!this.parsed.delete(id) && text.startsWith('[{"ok":true', open)) {
        entry.done({ ok: true });
        return;
      }
      try {
        const [answer] = JSON.parse(text.slice(open)) as [{ ok: boolean; data?: unknown; error?: { code?: string } }];
        entry.done({ ok: answer.ok, code: answer.error?.code, data: answer.data });
      } catch {
        entry.done({ ok: false, code: 'MALFORMED_ACK' });
      }
    }
  }

  /**
   * Sends an event and calls back with its answer, or (undefined, 'TIMEOUT' | 'DISCONNECTED').
   * A success is not parsed (`data` stays unset): the load only counts answers.
   */
  emit(event: string, payload: unknown, done: AckCallback, timeoutMs = 10_000): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      done(undefined, 'DISCONNECTED');
      return;
    }
    const id = this.nextAck++;
    const timer = setTimeout(() => {
      this.acks.delete(id);
      done(undefined, 'TIMEOUT');
    }, timeoutMs);
    this.acks.set(id, { done, timer });
    this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
  }

  /** Like emit, but resolves with the answer's data, parsed (for the few calls whose result is needed). */
  request<T>(event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) return reject(new Error(`${event}: not connected`));
      const id = this.nextAck++;
      const timer = setTimeout(() => {
        this.acks.delete(id);
        this.parsed.delete(id);
        reject(new Error(`${event}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.parsed.add(id);
      this.acks.set(id, {
        timer,
        done: (answer, error) => {
          if (!answer) reject(new Error(`${event}: ${error}`));
          else if (!answer.ok) reject(new Error(`${event}: ${answer.code}`));
          else resolve(answer.data as T);
        },
      });
      this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  close(): void {
    this.closedByUs = true;
    for (const { timer } of this.acks.values()) clearTimeout(timer);
    this.acks.clear();
    this.ws.terminate();
  }
}
