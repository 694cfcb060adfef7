import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  /** Epoch ms when it arrived. */
  at: number;
}

export type Answer = { status: number; body?: string } | 'hang';

/**
 * A webhook endpoint on 127.0.0.1 for tests: records every request and answers what `answer`
 * says for the n-th one (1-based); 'hang' never answers.
 */
export class Receiver {
  readonly received: Received[] = [];
  private server!: Server;
  url = '';

  constructor(public answer: (n: number, request: Received) => Answer | Promise<Answer> = () => ({ status: 200 })) {}

  static async start(answer?: Receiver['answer']): Promise<Receiver> {
    const receiver = new Receiver(answer);
    receiver.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', async () => {
        const request = { headers: req.headers, body, at: Date.now() };
        receiver.received.push(request);
        const answer = await receiver.answer(receiver.received.length, request);
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks`;
    return receiver;
  }

  /** The parsed bodies received so far. */
  payloads(): { id: string; type: string; createdAt: string; data: any }[] {
    return this.received.map((r) => JSON.parse(r.body));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
