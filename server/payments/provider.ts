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

/** The port to whatever takes real money in (Stripe, Adyen, an app store…). */
export interface PaymentProvider {
  readonly name: string;
  /** Charges the payer; resolves with the provider's reference or throws PAYMENT_DECLINED. */
  charge(request: ChargeRequest): Promise<{ reference: string }>;
}

/** Payment methods the sandbox understands, like a payment provider's test cards. */
export const SANDBOX_DECLINE = 'sandbox_decline';

/**
 * The built-in provider for development, demos and tests: every charge succeeds except those
 * made with the `sandbox_decline` method. No money exists outside the ledger.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox';

  async charge(request: ChargeRequest): Promise<{ reference: string }> {
    if (request.paymentMethod === SANDBOX_DECLINE) {
      throw new AppError('PAYMENT_DECLINED', 'the payment method was declined');
    }
    const digest = createHash('sha256').update(`${request.userId}:${request.idempotencyKey}`).digest('hex');
    return { reference: `sbx_${digest.slice(0, 24)}` };
  }
}
