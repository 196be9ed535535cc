// Who may see and change what is decided once for every subgraph, in @analytica/subgraph/access
// (isUuid, visibleOrNotFound, ownedOrNotFound). What stays here is budget's own: reading money
// back from SQL exactly.
import { badInput } from '@analytica/errors';

/** bigint values and sums come back from pg as text; money must stay exact, so refuse what a number cannot hold. */
export function minorUnitsFromSql(value: unknown): number {
  const amount = typeof value === 'number' ? value : /^-?\d+$/.test(String(value)) ? Number(String(value)) : Number.NaN;
  if (!Number.isSafeInteger(amount)) throw new Error(`amount ${String(value)} is not an integer within the exact range`);
  return amount;
}

/**
 * What a client is told when a sum of amounts that are each exact (balances, totals, spending)
 * goes beyond ±Number.MAX_SAFE_INTEGER minor units: a number could only round it, and a rounded
 * amount of money is a wrong one. `what` names the sum, `fix` what to do about it.
 */
export function sumBeyondExactRange(field: string, what: string, fix: string) {
  return badInput(field, `${what} is beyond ${Number.MAX_SAFE_INTEGER} minor units, more than can be given exactly; ${fix}`);
}

/**
 * A sum PostgreSQL computed exactly (sum() of bigint is numeric, sent as text), as a number, or
 * BAD_USER_INPUT naming `field` when it is beyond the exact range: never a rounded amount, and
 * never an internal error for a sum the client can narrow.
 */
export function sumFromSql(value: unknown, field: string, what: string, fix: string): number {
  const text = String(value);
  if (/^-?\d+$/.test(text) && !Number.isSafeInteger(Number(text))) throw sumBeyondExactRange(field, what, fix);
  return minorUnitsFromSql(value);
}

/** a + b for amounts summed in code (converted amounts): exact, or BAD_USER_INPUT as sumFromSql. */
export function addExact(a: number, b: number, field: string, what: string, fix: string): number {
  const sum = a + b;
  // Both are safe integers: a sum within the safe range is exact, and one beyond it is refused.
  if (!Number.isSafeInteger(sum)) throw sumBeyondExactRange(field, what, fix);
  return sum;
}
