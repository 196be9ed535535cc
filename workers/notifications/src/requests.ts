import { claimEvent, recordEvent, type Event, type EventPayload, type Topic } from '@analytica/events';
import { formatMinorUnits } from '@analytica/money';
import type { Database, EntityManager } from '@analytica/postgres';
import { updateRecipientEmail, upsertRecipient } from './recipients.js';

type EmailRequest = EventPayload<'notifications.email.v1'>;

/**
 * The domain events that become emails, and the email each asks for (null: none). Each runs in the
 * transaction that claims the event, so one event gives one email request, however often it is
 * delivered.
 */
const EMAIL_SOURCES = {
  async 'user.registered.v1'(tx: EntityManager, e: Event<'user.registered.v1'>): Promise<EmailRequest | null> {
    const p = e.payload;
    await upsertRecipient(tx, { userId: p.userId, email: p.email, displayName: p.displayName, registeredAt: new Date(p.registeredAt) });
    return {
      userId: p.userId,
      to: p.email,
      template: 'welcome',
      data: { verificationToken: p.verificationToken, verificationExpiresAt: p.verificationExpiresAt },
    };
  },
  /**
   * A confirmed change of sign-in address: emails go to the new one from now on, and the previous
   * one is told (it may be the owner's, if someone else changed it).
   */
  async 'user.email-changed.v1'(tx: EntityManager, e: Event<'user.email-changed.v1'>): Promise<EmailRequest | null> {
    const p = e.payload;
    await updateRecipientEmail(tx, p.userId, p.email);
    return { userId: p.userId, to: p.previousEmail, template: 'email-changed', data: { newEmail: p.email, changedAt: p.changedAt } };
  },
  async 'payments.status-changed.v1'(_tx: EntityManager, e: Event<'payments.status-changed.v1'>): Promise<EmailRequest | null> {
    const p = e.payload;
    if (p.status !== 'SUCCEEDED' && p.status !== 'FAILED') return null;
    return {
      userId: p.userId,
      template: 'payment-result',
      data: { status: p.status, paymentId: p.paymentId, amountMinor: p.amountMinor, currency: p.currency, payeeName: p.payeeName, reference: p.reference, reason: p.reason },
    };
  },
  async 'budget.overspent.v1'(_tx: EntityManager, e: Event<'budget.overspent.v1'>): Promise<EmailRequest | null> {
    const p = e.payload;
    return {
      userId: p.userId,
      template: 'budget-overspent',
      data: { period: p.period, startsOn: p.startsOn, limitMinor: p.limitMinor, spentMinor: p.spentMinor, currency: p.currency, budgetId: p.budgetId },
    };
  },
  async 'market.price-alert.v1'(_tx: EntityManager, e: Event<'market.price-alert.v1'>): Promise<EmailRequest | null> {
    const p = e.payload;
    return {
      userId: p.userId,
      template: 'price-alert',
      data: { symbol: p.symbol, direction: p.direction, threshold: p.threshold, price: p.price, triggeredAt: p.triggeredAt },
    };
  },
  /** An unusual transaction (the inference worker): the `anomaly` email, which honours the insights opt-out. */
  async 'transactions.anomalous.v1'(_tx: EntityManager, e: Event<'transactions.anomalous.v1'>): Promise<EmailRequest | null> {
    const p = e.payload;
    const amount = `${formatMinorUnits(Math.abs(Number(p.amountMinor)), p.currency)} ${p.currency}`;
    const category = p.category ? `${p.category}${p.categorySuggested ? ' (suggested)' : ''}` : 'uncategorised';
    return {
      userId: p.userId,
      template: 'anomaly',
      data: {
        title: `Unusual ${category} payment: ${amount} to ${p.payee}`,
        detail:
          `${p.reason}. ${amount} to ${p.payee} on ${p.bookedAt.slice(0, 16).replace('T', ' ')} UTC, in ${category}; ` +
          `our model scored it ${p.score.toFixed(2)} (alert threshold ${p.threshold.toFixed(2)}). If you do not recognise it, contact your bank.`,
      },
    };
  },
} as const;
export type EmailSource = keyof typeof EMAIL_SOURCES;
export const EMAIL_SOURCE_TOPICS = Object.keys(EMAIL_SOURCES) as EmailSource[];

/** Turns one domain event into its email request (in the outbox), once. Answers whether it wrote one. */
export async function requestEmailFor<T extends EmailSource & Topic>(db: Database, event: Event<T>): Promise<boolean> {
  return db.fork().transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, `notifications:${event.topic}`))) return false;
    const request = await (EMAIL_SOURCES[event.topic] as (tx: EntityManager, e: Event<T>) => Promise<EmailRequest | null>)(tx, event);
    if (!request) return false;
    recordEvent(tx, 'notifications.email.v1', request.userId, request);
    return true;
  });
}
