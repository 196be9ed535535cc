// Who may see and change what is decided once for every subgraph, in @analytica/subgraph/access
// (isUuid, visibleOrNotFound, ownedOrNotFound). What stays here is budget's own: reading money
// back from SQL exactly.

/** bigint values and sums come back from pg as text; money must stay exact, so refuse what a number cannot hold. */
export function minorUnitsFromSql(value: unknown): number {
  const amount = typeof value === 'number' ? value : /^-?\d+$/.test(String(value)) ? Number(String(value)) : Number.NaN;
  if (!Number.isSafeInteger(amount)) throw new Error(`amount ${String(value)} is not an integer within the exact range`);
  return amount;
}
