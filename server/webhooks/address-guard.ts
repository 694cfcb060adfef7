import { lookup } from 'node:dns';
import { lookup as lookupAsync } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Against server-side request forgery: a webhook URL chosen by a user must not make the server
 * call its own loopback, the private network, link-local metadata services (169.254.169.254) and
 * the like. Checked when a webhook is registered (for a clear error) and again when connecting,
 * on the very addresses the connection uses, so a DNS answer that changes in between
 * ("rebinding") gains nothing.
 */

const nonPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible (::a.b.c.d, deprecated) addresses
  ['::ffff:0:0:0', 96], // SIIT IPv4-translated (::ffff:0:a.b.c.d)
  ['64:ff9b::', 96], // NAT64: reaches IPv4 addresses, private ones included
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed inside some networks)
  ['ff00::', 8], // multicast
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv6');
}

/**
 * True for a globally routable unicast address. IPv4-mapped IPv6 is judged as its IPv4, and so
 * is a 6to4 address (2002:AABB:CCDD::/48 reaches AA.BB.CC.DD through a relay).
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !nonPublic.check(address, 'ipv4');
  if (nonPublic.check(address, 'ipv6')) return false;
  const sixToFour = embeddedSixToFour(address);
  return sixToFour === null || !nonPublic.check(sixToFour, 'ipv4');
}

const sixToFourNet = new BlockList();
sixToFourNet.addSubnet('2002::', 16, 'ipv6');

/** The IPv4 address inside a 6to4 address, or null for any other address. */
function embeddedSixToFour(address: string): string | null {
  if (!sixToFourNet.check(address, 'ipv6')) return null;
  const groups = expandIpv6(address);
  const [hi, lo] = [groups[1], groups[2]];
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function expandIpv6(address: string): number[] {
  const [head, tail = ''] = address.toLowerCase().split('::');
  const parse = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = address.includes('::') ? parse(tail) : [];
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}

export class PrivateAddressError extends Error {
  readonly code = 'EWEBHOOKPRIVATE';
  constructor(host: string, address: string) {
    super(
      host === address
        ? `${host} is not a public address`
        : `${host} resolves to ${address}, which is not a public address`,
    );
    this.name = 'PrivateAddressError';
  }
}

/** Hostname without IPv6 brackets. */
export const bareHost = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

/** The addresses `host` resolves to, refusing (with PrivateAddressError) if any is not public. */
export async function publicAddressesOf(host: string): Promise<string[]> {
  const bare = bareHost(host);
  const addresses = isIP(bare)
    ? [bare]
    : (await lookupAsync(bare, { all: true, verbatim: true })).map((a) => a.address);
  const bad = addresses.find((a) => !isPublicAddress(a));
  if (bad) throw new PrivateAddressError(host, bad);
  return addresses;
}

/**
 * A `lookup` for http(s).request that resolves as usual but fails the connection when any
 * address is not public, so the socket can only ever reach an address that was checked.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) return callback(new PrivateAddressError(hostname, bad.address), '', 0);
    if (addresses.length === 0) return callback(new Error(`${hostname} has no addresses`), '', 0);
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};
