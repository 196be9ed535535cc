import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@analytica/postgres';

/**
 * What each template is about. `account` (welcome, address verification) and `security` (one-time
 * codes) are part of using the service and always sent; the others can be turned off.
 */
export const TEMPLATE_CATEGORY = {
  welcome: 'account',
  'one-time-code': 'security',
  'registration-attempt': 'security',
  'password-reset': 'security',
  'email-change-verification': 'account',
  'email-changed': 'security',
  'payment-result': 'payments',
  'budget-overspent': 'budget',
  'price-alert': 'market',
  anomaly: 'insights',
  // The weekly and monthly digest (insight's schedule): turned off with the other insight emails.
  digest: 'insights',
} as const;
export type Template = keyof typeof TEMPLATE_CATEGORY;
export type Category = (typeof TEMPLATE_CATEGORY)[Template];
const OPTIONAL_CATEGORIES: readonly Category[] = ['payments', 'budget', 'market', 'insights'];

export const CATEGORY_NAMES: Record<Category, string> = {
  account: 'account emails',
  security: 'security codes',
  payments: 'payment results',
  budget: 'budget alerts',
  market: 'price alerts',
  insights: 'spending insights',
};

export function isOptional(category: string): category is Category {
  return (OPTIONAL_CATEGORIES as readonly string[]).includes(category);
}

/**
 * The signature of an unsubscribe link: an HMAC of the user and the category, so that the link
 * works without signing in and cannot be forged for someone else. It does not expire: an old email's
 * link must keep working.
 */
export function unsubscribeSignature(secret: string, userId: string, category: string): string {
  return createHmac('sha256', secret).update(`unsubscribe\0${userId}\0${category}`).digest('base64url');
}

export function signatureIsValid(secret: string, userId: string, category: string, signature: string): boolean {
  const expected = Buffer.from(unsubscribeSignature(secret, userId, category));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function unsubscribeUrl(publicUrl: string, secret: string, userId: string, category: Category): string {
  const url = new URL('/unsubscribe', publicUrl);
  url.searchParams.set('u', userId);
  url.searchParams.set('c', category);
  url.searchParams.set('s', unsubscribeSignature(secret, userId, category));
  return url.toString();
}

export async function setSubscribed(em: EntityManager, userId: string, category: Category, subscribed: boolean) {
  await em.getConnection().execute(
    `insert into preferences (user_id, category, subscribed, updated_at) values (?, ?, ?, now())
     on conflict (user_id, category) do update set subscribed = excluded.subscribed, updated_at = now()`,
    [userId, category, subscribed],
    'run',
  );
}
