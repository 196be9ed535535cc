import { HEADER, type EventPayload, type RelayedMessage } from '@analytica/events';
import type { LivePublisher } from '@analytica/redis/live';

/**
 * The budget's live events, derived from the outbox messages the relay has just put on the bus:
 * only committed changes reach it, and every path that changes money writes one (the mutations,
 * imports, schedules, payments booked from payment events), so nothing needs to remember to
 * publish. Best effort, like every live event: a lost one costs a subscriber an update, never the
 * truth, which queries give.
 *
 * - `Account.<id>` (the key only: the gateway reads the account from this subgraph with the
 *   subscriber's token) for each account a recorded, edited or deleted transaction touched; once
 *   per relayed batch, so that a 100,000-line import is a few hundred events, not 100,000.
 * - `BudgetOverspent` to the budget's owner for each budget.overspent.v1.
 */
export function budgetLiveEvents(live: LivePublisher) {
  return async function publish(messages: readonly RelayedMessage[]): Promise<void> {
    const accounts = new Set<string>();
    const sends: Promise<void>[] = [];
    for (const message of messages) {
      switch (message.topic) {
        case 'transactions.recorded.v1':
        case 'transactions.deleted.v1':
          accounts.add((JSON.parse(message.value) as EventPayload<'transactions.recorded.v1'>).accountId);
          break;
        case 'transactions.updated.v1': {
          const updated = JSON.parse(message.value) as EventPayload<'transactions.updated.v1'>;
          accounts.add(updated.accountId).add(updated.previous.accountId);
          break;
        }
        case 'budget.overspent.v1': {
          const event = JSON.parse(message.value) as EventPayload<'budget.overspent.v1'>;
          sends.push(live.toUser('BudgetOverspent', event.userId, budgetOverspentPayload(message.headers[HEADER.id] ?? message.id, event)));
          break;
        }
      }
    }
    for (const id of accounts) sends.push(live.entity('Account', id, { id }));
    const failure = (await Promise.allSettled(sends)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  };
}

type OverspentKey = Pick<EventPayload<'budget.overspent.v1'>, 'budgetId' | 'limitMinor' | 'spentMinor' | 'currency' | 'crossedAt'>;

/**
 * The key of a BudgetOverspent: the event itself, encoded (with its event id, so the same event
 * delivered twice has the same key), so that the budget subgraph can answer any field of it
 * (the budget, its category) from the key alone, checked against the caller like the budget.
 */
export function budgetOverspentId(eventId: string, event: OverspentKey): string {
  return Buffer.from(JSON.stringify([eventId, event.budgetId, event.limitMinor, event.spentMinor, event.currency, event.crossedAt])).toString('base64url');
}

/** The event a BudgetOverspent id names, or undefined when it is not one. */
export function decodeBudgetOverspentId(id: string): OverspentKey | undefined {
  try {
    const parts = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as unknown[];
    if (!Array.isArray(parts) || parts.length !== 6 || !parts.every((p) => typeof p === 'string')) return undefined;
    const [, budgetId, limitMinor, spentMinor, currency, crossedAt] = parts as string[];
    if (!/^-?\d{1,16}$/.test(limitMinor!) || !/^-?\d{1,16}$/.test(spentMinor!) || !/^[A-Z]{3}$/.test(currency!) || Number.isNaN(Date.parse(crossedAt!))) return undefined;
    return { budgetId: budgetId!, limitMinor: limitMinor!, spentMinor: spentMinor!, currency: currency!, crossedAt: crossedAt! };
  } catch {
    return undefined;
  }
}

/**
 * What `budgetOverspent` delivers: the key and the event's own fields, as GraphQL serialises
 * them. A subscriber who selects the budget or its category is answered by the gateway fetching
 * the event from this subgraph by its key.
 */
export function budgetOverspentPayload(eventId: string, event: EventPayload<'budget.overspent.v1'>) {
  const money = (minor: string) => ({ __typename: 'Money', amountMinor: Number(minor), currency: event.currency });
  return {
    id: budgetOverspentId(eventId, event),
    budgetId: event.budgetId,
    period: event.period,
    startsOn: event.startsOn,
    limit: money(event.limitMinor),
    spent: money(event.spentMinor),
    crossedAt: event.crossedAt,
  };
}
