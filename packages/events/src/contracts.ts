import { z } from 'zod';

/**
 * One zod contract per Kafka topic. Topic names are `<domain>.<event>.v<N>`; a breaking change
 * is a new topic version, never an edit of an old contract. Money is a string of integer minor
 * units (bigint-safe) plus an ISO 4217 code; times are ISO 8601 UTC.
 */
const id = z.string().min(1);
const isoTime = z.iso.datetime();
const minorUnits = z.string().regex(/^-?\d+$/, 'must be an integer count of minor units');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code');

export const contracts = {
  'user.registered.v1': z.object({
    userId: id,
    email: z.email(),
    displayName: z.string(),
    registeredAt: isoTime,
  }),
  'transactions.recorded.v1': z.object({
    userId: id,
    transactionId: id,
    accountId: id,
    categoryId: id.nullable(),
    amountMinor: minorUnits,
    currency,
    payee: z.string(),
    bookedAt: isoTime,
  }),
  'payments.requested.v1': z.object({
    userId: id,
    paymentId: id,
    bankAccountId: id,
    amountMinor: minorUnits,
    currency,
    payeeName: z.string(),
    requestedAt: isoTime,
  }),
  'market.ticks.v1': z.object({
    symbol: z.string().min(1),
    region: z.enum(['US', 'EU', 'APAC']),
    bid: z.number().positive(),
    ask: z.number().positive(),
    last: z.number().positive(),
    size: z.number().int().nonnegative(),
    exchangeTime: isoTime,
  }),
  'budget.overspent.v1': z.object({
    userId: id,
    budgetId: id,
    categoryId: id,
    period: z.enum(['MONTHLY', 'WEEKLY']),
    startsOn: z.iso.date(),
    limitMinor: minorUnits,
    spentMinor: minorUnits,
    currency,
    crossedAt: isoTime,
  }),
  'market.price-alert.v1': z.object({
    userId: id,
    alertId: id,
    symbol: z.string().min(1),
    direction: z.enum(['ABOVE', 'BELOW']),
    threshold: z.number().positive(),
    price: z.number().positive(),
    triggeredAt: isoTime,
  }),
  'notifications.email.v1': z.object({
    userId: id,
    to: z.email(),
    template: z.enum(['welcome', 'payment-result', 'budget-overspent', 'price-alert', 'anomaly']),
    data: z.record(z.string(), z.unknown()),
  }),
} as const;

export type Topic = keyof typeof contracts;
export type EventPayload<T extends Topic> = z.infer<(typeof contracts)[T]>;
export const topicNames = Object.keys(contracts) as Topic[];

export function isTopic(name: string): name is Topic {
  return Object.hasOwn(contracts, name);
}
