import { clientAddress } from './handshake';

describe('clientAddress', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(clientAddress('10.0.0.9', '1.2.3.4', 0)).toBe('10.0.0.9');
  });

  it('takes the entry the trusted proxy appended, not the forgeable leftmost one', () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; the one trusted proxy appended the real peer.
    expect(clientAddress('10.0.0.1', '6.6.6.6, 203.0.113.7', 1)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', ['6.6.6.6', '203.0.113.7'], 1)).toBe('203.0.113.7');
    // Two proxies: a CDN then a load balancer.
    expect(clientAddress('10.0.0.1', '6.6.6.6, 203.0.113.7, 198.51.100.2', 2)).toBe('203.0.113.7');
  });

  it('falls back to the furthest known address when the chain is shorter than the hops', () => {
    expect(clientAddress('10.0.0.1', '203.0.113.7', 3)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', undefined, 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', ' , ', 1)).toBe('10.0.0.1');
  });
});
