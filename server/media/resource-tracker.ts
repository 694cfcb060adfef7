import type { Router, Transport, Worker } from 'mediasoup/types';
import type { ResourceCounts } from './types';

/**
 * Counts what lives in one worker by following mediasoup's observer events, which fire for every
 * creation and exactly once for every close, whatever the cause (explicit close, a closed
 * parent, a dead worker). Pipe transports and their consumers are counted too: they cost the
 * worker as much as a viewer's.
 */
export class ResourceTracker {
  readonly counts: ResourceCounts = { routers: 0, transports: 0, producers: 0, consumers: 0 };
  /** Live routers and transports of the worker, by id (for dumps). */
  readonly routers = new Map<string, Router>();
  readonly transports = new Map<string, Transport>();

  constructor(worker: Worker) {
    worker.observer.on('newrouter', (router) => this.trackRouter(router));
  }

  private trackRouter(router: Router): void {
    this.counts.routers++;
    this.routers.set(router.id, router);
    router.observer.once('close', () => {
      this.counts.routers--;
      this.routers.delete(router.id);
    });
    router.observer.on('newtransport', (transport) => this.trackTransport(transport));
  }

  private trackTransport(transport: Transport): void {
    this.counts.transports++;
    this.transports.set(transport.id, transport);
    transport.observer.once('close', () => {
      this.counts.transports--;
      this.transports.delete(transport.id);
    });
    transport.observer.on('newproducer', (producer) => {
      this.counts.producers++;
      producer.observer.once('close', () => this.counts.producers--);
    });
    transport.observer.on('newconsumer', (consumer) => {
      this.counts.consumers++;
      consumer.observer.once('close', () => this.counts.consumers--);
    });
  }
}
