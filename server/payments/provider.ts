import { createHash } from 'node:crypto';
import { AppError } from '../errors';

export interface ChargeRequest {
  userId: string;
  amount: number;
  currency: string;
  /**
   * Forwarded to the provider so that a retried charge is not taken twice: unique across users
   * (see `providerIdempotencyKey`), never the caller's raw Idempotency-Key.
   */
  idempotencyKey: string;
  /** Provider-specific payment method reference (a saved card, a token from the browser). */
  paymentMethod?: string;
}

export interface PayoutRequest {
  creatorId: string;
  amount: number;
  currency: string;
  /** Unique per payout attempt and stable across retries of it (`payoutIdempotencyKey`). */
  idempotencyKey: string;
  /** Provider-specific destination or method (a connected bank account, a test method). */
  method?: string;
}

/** Where a payout stands at the provider. */
export type PayoutState = { status: 'pending' } | { status: 'paid' } | { status: 'failed'; reason: string };

/** The port to whatever takes real money in and sends it out (Stripe, Adyen, an app store…). */
export interface PaymentProvider {
  readonly name: string;
  /** Charges the payer; resolves with the provider's reference or throws PAYMENT_DECLINED. */
  charge(request: ChargeRequest): Promise<{ reference: string }>;
  /**
   * Starts sending money to a creator. Asynchronous like a bank transfer: it answers with a
   * reference at once and settles later (`payoutStatus`). The same key starts nothing new.
   */
  payout(request: PayoutRequest): Promise<{ reference: string }>;
  payoutStatus(reference: string): Promise<PayoutState>;
}

/** Payment methods the sandbox understands, like a payment provider's test cards. */
export const SANDBOX_DECLINE = 'sandbox_decline';
/** The payout method with which the sandbox's transfer fails (after its delay, as a bank's would). */
export const SANDBOX_PAYOUT_FAIL = 'sandbox_fail';

/**
 * The built-in provider for development, demos and tests: every charge succeeds except those
 * made with the `sandbox_decline` method; every payout is paid `payoutDelayMs` after it was
 * started, except those with the `sandbox_fail` method, which fail then. No money exists outside
 * the ledger. Its payouts keep their state in the reference itself, so a restarted node (or
 * another one) reads the same answer.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox';

  /** References by idempotency key, so a repeated request gets the first answer (in this process). */
  private readonly payouts = new Map<string, string>();

  constructor(private readonly options: { payoutDelayMs?: number; now?: () => number } = {}) {}

  async payout(request: PayoutRequest): Promise<{ reference: string }> {
    const known = this.payouts.get(request.idempotencyKey);
    if (known) return { reference: known };
    const digest = createHash('sha256').update(`payout:${request.idempotencyKey}`).digest('hex').slice(0, 16);
    const outcome = request.method === SANDBOX_PAYOUT_FAIL ? 'f' : 'p';
    const settleAt = (this.options.now ?? Date.now)() + (this.options.payoutDelayMs ?? 3000);
    const reference = `sbxpo_${outcome}_${settleAt.toString(36)}_${digest}`;
    if (this.payouts.size >= 100_000) this.payouts.clear();
    this.payouts.set(request.idempotencyKey, reference);
    return { reference };
  }

  async payoutStatus(reference: string): Promise<PayoutState> {
    const match = /^sbxpo_([pf])_([0-9a-z]+)_[0-9a-f]{16}$/.exec(reference);
    if (!match) return { status: 'failed', reason: 'unknown payout reference' };
    if ((this.options.now ?? Date.now)() < Number.parseInt(match[2], 36)) return { status: 'pending' };
    return match[1] === 'p' ? { status: 'paid' } : { status: 'failed', reason: 'the bank refused the transfer' };
  }

  async charge(request: ChargeRequest): Promise<{ reference: string }> {
    if (request.paymentMethod === SANDBOX_DECLINE) {
      throw new AppError('PAYMENT_DECLINED', 'the payment method was declined');
    }
    const digest = createHash('sha256').update(`${request.userId}:${request.idempotencyKey}`).digest('hex');
    return { reference: `sbx_${digest.slice(0, 24)}` };
  }
}
