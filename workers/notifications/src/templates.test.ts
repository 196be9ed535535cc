import { describe, expect, it } from 'vitest';
import { signatureIsValid, unsubscribeSignature, unsubscribeUrl } from './preferences.js';
import { renderEmail, TemplateDataError } from './templates.js';

const ctx = { displayName: 'Ada <Admin>', appUrl: 'https://app.example', unsubscribeUrl: 'https://n.example/unsubscribe?u=1&c=payments&s=x' };

describe('email templates', () => {
  it("renders a digest: each currency's totals, where the money went and the period's insights, with a link to the report", () => {
    const email = renderEmail(
      'digest',
      {
        period: 'MONTHLY',
        startsOn: '2026-02-01',
        endsOn: '2026-02-28',
        totals: [{ currency: 'EUR', incomeMinor: 250000, spendingMinor: 86000 }],
        topSpending: [
          { category: 'Rent', amountMinor: 80000, currency: 'EUR' },
          { category: 'Food & Drink', amountMinor: 4500, currency: 'EUR' },
        ],
        insights: ['1640.00 EUR left over to save'],
      },
      ctx,
    );
    expect(email.subject).toBe('Your month from 2026-02-01 to 2026-02-28');
    expect(email.text).toContain('In EUR: 2500.00 EUR in, 860.00 EUR out, 1640.00 EUR net.');
    expect(email.text).toContain('Where the money went: Rent 800.00 EUR, Food & Drink 45.00 EUR.');
    expect(email.text).toContain('1640.00 EUR left over to save');
    expect(email.text).toContain('https://app.example/insights');
    expect(email.html).toContain('Food &amp; Drink');
    expect(() => renderEmail('digest', { period: 'DAILY' }, ctx)).toThrowError(TemplateDataError);
  });

  it("renders a payment result in both parts, with the amount in the currency's minor units", () => {
    const email = renderEmail(
      'payment-result',
      { status: 'SUCCEEDED', paymentId: 'p1', amountMinor: '123456', currency: 'EUR', payeeName: 'Landlord & Sons', reference: 'Rent' },
      ctx,
    );
    expect(email.subject).toBe('Payment of 1234.56 EUR to Landlord & Sons sent');
    expect(email.text).toContain('Your payment of 1234.56 EUR to Landlord & Sons (Rent) has been sent.');
    expect(email.text).toContain('See the payment: https://app.example/payments/p1');
    expect(email.html).toContain('Landlord &amp; Sons');
    expect(email.html).toContain('Hello Ada &lt;Admin&gt;,');
    expect(email.html).not.toContain('<Admin>');
  });

  it('gives the reason of a failed payment and says no money left the account', () => {
    const email = renderEmail('payment-result', { status: 'FAILED', paymentId: 'p2', amountMinor: 500, currency: 'JPY', payeeName: 'Shop', reason: 'INSUFFICIENT_FUNDS' }, ctx);
    expect(email.subject).toBe('Payment of 500 JPY to Shop failed');
    expect(email.text).toMatch(/No money left your account[\s\S]*Reason: INSUFFICIENT_FUNDS\./);
  });

  it('shows a one-time code large in HTML and on its own line in text, with its expiry', () => {
    const email = renderEmail(
      'one-time-code',
      { purpose: 'bank-account', code: '042424', expiresAt: '2026-03-01T10:15:00.000Z', bankName: 'Sandbox Bank', accountNumber: '•••• 1234' },
      { ...ctx, unsubscribeUrl: null },
    );
    expect(email.subject).toBe('Your code to verify •••• 1234');
    expect(email.text).toContain('\n    042424\n');
    expect(email.text).toContain('until 2026-03-01 10:15 UTC');
    expect(email.html).toMatch(/letter-spacing[^>]*>042424</);
    expect(email.text).toContain('needed to use your Analytica account');
    expect(email.text).not.toContain('Turn these emails off');
  });

  it('links the welcome email to address verification, and the footer to the unsubscribe link', () => {
    const email = renderEmail('welcome', { verificationToken: 'tok en/1' }, ctx);
    expect(email.text).toContain('https://app.example/verify-email?token=tok%20en%2F1');
    expect(email.text).toContain(`Turn these emails off: ${ctx.unsubscribeUrl}`);
    expect(email.html).toContain('href="https://n.example/unsubscribe?u=1&amp;c=payments&amp;s=x"');
  });

  it('renders budget and price alerts', () => {
    expect(renderEmail('budget-overspent', { period: 'MONTHLY', startsOn: '2026-03-01', limitMinor: '40000', spentMinor: '41250', currency: 'EUR' }, ctx).text).toContain(
      'You have spent 412.50 EUR of your monthly budget of 400.00 EUR',
    );
    expect(renderEmail('price-alert', { symbol: 'AAPL', direction: 'ABOVE', threshold: 200, price: 201.5, triggeredAt: '2026-03-01T15:00:00Z' }, ctx).subject).toBe(
      'AAPL has risen above 200',
    );
  });

  it('refuses data that does not fit the template, naming the field', () => {
    expect(() => renderEmail('one-time-code', { purpose: 'payment', code: '12', expiresAt: 'x' }, ctx)).toThrow(TemplateDataError);
    expect(() => renderEmail('payment-result', { status: 'MAYBE' }, ctx)).toThrow(/status/);
  });
});

describe('unsubscribe links', () => {
  const secret = 'an-unsubscribe-secret-of-at-least-32-chars';

  it('carry a signature bound to the user and the category', () => {
    const signature = unsubscribeSignature(secret, 'u1', 'payments');
    expect(signatureIsValid(secret, 'u1', 'payments', signature)).toBe(true);
    expect(signatureIsValid(secret, 'u2', 'payments', signature)).toBe(false);
    expect(signatureIsValid(secret, 'u1', 'market', signature)).toBe(false);
    expect(signatureIsValid(`${secret}!`, 'u1', 'payments', signature)).toBe(false);
    expect(signatureIsValid(secret, 'u1', 'payments', signature.slice(1))).toBe(false);
  });

  it("point at the worker's public address", () => {
    const link = new URL(unsubscribeUrl('https://n.example/base', secret, 'u1', 'budget'));
    expect(link.origin + link.pathname).toBe('https://n.example/unsubscribe');
    expect(Object.fromEntries(link.searchParams)).toEqual({ u: 'u1', c: 'budget', s: unsubscribeSignature(secret, 'u1', 'budget') });
  });
});
