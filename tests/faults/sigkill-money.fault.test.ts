import { crashDuringStorm } from '../../scripts/bench/money-storm';

/**
 * The server process killed with SIGKILL in the middle of a storm of tips and purchases, started
 * again, every client retrying what went unanswered with the same idempotency key.
 */
it('every acknowledged operation is in the ledger exactly once after a SIGKILL mid-storm', async () => {
  const result = await crashDuringStorm(40);
  console.log(JSON.stringify({ sigkillStorm: result }));
  expect(result.killed).toBe(1);
  expect(result.acknowledged).toBeGreaterThan(100);
  expect(result.acknowledged + result.refused).toBe(result.operations);
  expect({
    lost: result.lost,
    doubled: result.doubled,
    unbalancedTransactions: result.unbalancedTransactions,
    driftedAccounts: result.driftedAccounts,
    negativeWallets: result.negativeWallets,
    driftedTipTotals: result.driftedTipTotals,
  }).toEqual({
    lost: 0,
    doubled: 0,
    unbalancedTransactions: 0,
    driftedAccounts: 0,
    negativeWallets: 0,
    driftedTipTotals: 0,
  });
});
