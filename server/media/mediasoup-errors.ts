import { AppError } from '../errors';

/**
 * mediasoup reports a caller's bad input (malformed RTP parameters, an unknown codec, DTLS
 * parameters that do not parse) as TypeError or UnsupportedError, and use of a closed object as
 * InvalidStateError (a dead worker's closed channel among them). Those become errors the gateway can send back; anything else is left as it
 * is and ends up as INTERNAL at the edge.
 */
export function fromMediasoupError(err: unknown, action: string): unknown {
  if (err instanceof AppError || !(err instanceof Error)) return err;
  if (err instanceof TypeError || err.name === 'UnsupportedError') {
    return new AppError('INVALID_ARGUMENT', `${action}: ${err.message}`, { cause: err });
  }
  if (err.name === 'InvalidStateError') {
    // The worker process went away under the call (its channel closed): the room's media is
    // being reset and a replacement started, so asking again shortly succeeds.
    if (err.message.startsWith('Channel closed')) {
      return new AppError('UNAVAILABLE', `${action}: the media worker went away; try again`, { cause: err });
    }
    return new AppError('CONFLICT', `${action}: the media resource was closed`, { cause: err });
  }
  return err;
}

/** Awaits a mediasoup call, translating the errors a caller can act on. */
export async function mediasoupCall<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw fromMediasoupError(err, action);
  }
}
