import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature } from './signature';

const secret = 'whsec_test';
const body = '{"id":"e1","type":"room.started"}';

describe('webhook signatures', () => {
  it('signs "<t>.<body>" with HMAC-SHA256, Stripe-style', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    const hex = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(header).toBe(`t=1700000000,v1=${hex}`);
  });

  it('verifies a fresh signature and refuses a changed body, another secret, an old time or garbage', () => {
    const now = 1_700_000_000;
    const header = signatureHeader(secret, body, now);
    expect(verifySignature(secret, body, header, { now })).toBe(true);
    expect(verifySignature(secret, `${body} `, header, { now })).toBe(false);
    expect(verifySignature('whsec_other', body, header, { now })).toBe(false);
    expect(verifySignature(secret, body, header, { now: now + 301 })).toBe(false);
    expect(verifySignature(secret, body, header, { now: now + 301, toleranceSeconds: 600 })).toBe(true);
    expect(verifySignature(secret, body, undefined, { now })).toBe(false);
    expect(verifySignature(secret, body, 't=abc,v1=zz', { now })).toBe(false);
    expect(verifySignature(secret, body, `t=${now}`, { now })).toBe(false);
  });

  it('accepts any one matching v1 among several (secret rotation)', () => {
    const now = 1_700_000_000;
    const good = signatureHeader(secret, body, now).split(',')[1];
    expect(verifySignature(secret, body, `t=${now},v1=${'0'.repeat(64)},${good}`, { now })).toBe(true);
  });
});
