import { randomUUID } from 'node:crypto';
import { badInput, notFound } from '@analytica/errors';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { AccountRecord } from '../accounts/account.entity.js';
import { assertBalancesExact } from '../accounts/accounts.js';
import { isoDate } from '../days.js';
import { loadRateTable } from '../exchange-rates/exchange-rates.js';
import type { TransactionRecord } from '../transactions/transaction.entity.js';
import { bookTransaction, checkBookedAt, checkNotes, checkPayee, checkTags } from '../transactions/transactions.js';

export interface TransferEntry {
  fromAccountId: string;
  toAccountId: string;
  /** What leaves the first account, positive, in its currency. */
  amount: { amountMinor: number; currency: string };
  /** What arrives, in the second account's currency; by default the same, or converted at the day's rate. */
  receivedAmount?: { amountMinor: number; currency: string } | null;
  bookedAt: Date;
  payee?: string | null;
  notes?: string | null;
  tags?: string[] | null;
}

/**
 * Moves money between two of the user's own accounts: two transactions, one out and one in, that
 * share a transfer id and are written in one database transaction, so they exist together or not
 * at all (and are deleted together). An account that is not the caller's is refused as bad input,
 * with the same answer as an id that does not exist.
 */
export async function transferMoney(em: EntityManager, userId: string, input: TransferEntry): Promise<{ id: string; from: TransactionRecord; to: TransactionRecord }> {
  const currency = assertCurrency(input.amount.currency, 'input.amount.currency');
  const sent = assertMinorUnits(input.amount.amountMinor, 'input.amount.amountMinor', { positive: true });
  const bookedAt = checkBookedAt(input.bookedAt, 'input.bookedAt');
  const notes = checkNotes(input.notes, 'input.notes');
  const tags = checkTags(input.tags, 'input.tags');
  // Another user's account is NOT_FOUND, exactly like one that does not exist (ids cannot be probed).
  if (!isUuid(input.fromAccountId)) throw notFound('Account', input.fromAccountId, 'input.fromAccountId');
  if (!isUuid(input.toAccountId)) throw notFound('Account', input.toAccountId, 'input.toAccountId');

  return em.transactional(async (tx) => {
    const accounts = await tx.find(AccountRecord, { id: { $in: [input.fromAccountId, input.toAccountId] } });
    const from = accounts.find((a) => a.id === input.fromAccountId && a.userId === userId);
    const to = accounts.find((a) => a.id === input.toAccountId && a.userId === userId);
    if (!from) throw notFound('Account', input.fromAccountId, 'input.fromAccountId');
    if (!to) throw notFound('Account', input.toAccountId, 'input.toAccountId');
    if (from.id === to.id) throw badInput('input.toAccountId', 'Choose two different accounts.');
    if (from.currency !== currency) throw badInput('input.amount.currency', `"${from.name}" is kept in ${from.currency}; send the amount in ${from.currency}.`);

    let received: number;
    if (input.receivedAmount) {
      const receivedCurrency = assertCurrency(input.receivedAmount.currency, 'input.receivedAmount.currency');
      received = assertMinorUnits(input.receivedAmount.amountMinor, 'input.receivedAmount.amountMinor', { positive: true });
      if (receivedCurrency !== to.currency) throw badInput('input.receivedAmount.currency', `"${to.name}" is kept in ${to.currency}.`);
      if (to.currency === from.currency && received !== sent) throw badInput('input.receivedAmount', 'Between accounts in one currency, what arrives is what leaves.');
    } else if (to.currency === from.currency) {
      received = sent;
    } else {
      const day = isoDate(bookedAt);
      const rates = await loadRateTable(tx, [from.currency, to.currency], day, day);
      received = rates.convert(sent, from.currency, to.currency, day, 'input.receivedAmount');
    }

    const transferId = randomUUID();
    const leg = (account: AccountRecord, amount: number, payee: string) =>
      bookTransaction(tx, {
        id: randomUUID(),
        userId,
        accountId: account.id,
        categoryId: null,
        amount,
        currency: account.currency,
        bookedAt,
        payee: input.payee ? checkPayee(input.payee, 'input.payee') : payee,
        notes,
        tags,
        transferId,
        scheduleId: null,
        scheduledOn: null,
        importId: null,
        externalId: null,
      }).transaction;
    const out = leg(from, -sent, `Transfer to ${to.name}`);
    const into = leg(to, received, `Transfer from ${from.name}`);
    await tx.flush();
    await assertBalancesExact(tx, [from.id, to.id], 'input.amount.amountMinor');
    return { id: transferId, from: out, to: into };
  });
}
