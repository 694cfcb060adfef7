/**
 * The Lectern wire protocol: the one module imported by both the server and the client SDK.
 * It has no runtime dependencies; everything here is a type, a constant or a tiny pure helper.
 */
export const PROTOCOL_VERSION = 1;

export * from './envelope';
export * from './errors';
export * from './events';
export * from './limits';
export * from './media';
export * from './models';
export * from './money';
export * from './vod';
