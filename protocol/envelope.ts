import type { ErrorBody } from './errors';

/** The answer to every client→server event: data on success, a coded error otherwise. */
export type AckResponse<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type Ack<T> = (response: AckResponse<T>) => void;
