import { z } from '@analytica/config';
import { PAYMENT_STATUSES } from '@analytica/events';
import { formatMinorUnits } from '@analytica/money';
import type { Template } from './preferences.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface RenderContext {
  displayName: string;
  appUrl: string;
  /** The signed link that turns this kind of email off; null for emails that cannot be turned off. */
  unsubscribeUrl: string | null;
}

/** Data a template cannot be rendered from: no retry will fix it. */
export class TemplateDataError extends Error {
  override name = 'TemplateDataError';
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const money = (amountMinor: string | number, currency: string) => `${formatMinorUnits(Number(amountMinor), currency)} ${currency}`;
const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/** A paragraph of text: the same words in both parts, escaped once for HTML. */
interface Block {
  text: string;
  /** Shown as a button (HTML) or a bare link (text). */
  link?: { label: string; href: string };
  /** Shown large and monospaced: a code to type. */
  code?: string;
}

function compose(subject: string, ctx: RenderContext, blocks: Block[]): RenderedEmail {
  const greeting = `Hello ${ctx.displayName},`;
  const footer = ctx.unsubscribeUrl
    ? `You get this email because it is turned on in your Analytica settings. Turn these emails off: ${ctx.unsubscribeUrl}`
    : 'You get this email because it is needed to use your Analytica account.';
  const text = [
    greeting,
    ...blocks.map((b) => [b.text, b.code ? `\n    ${b.code}\n` : '', b.link ? `${b.link.label}: ${b.link.href}` : ''].filter(Boolean).join('\n')),
    '— Analytica',
    footer,
  ].join('\n\n');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escape(subject)}</title></head>
<body style="font-family:system-ui,-apple-system,sans-serif;color:#1a1a1a;max-width:36rem;margin:0 auto;padding:1.5rem">
<p>${escape(greeting)}</p>
${blocks
  .map(
    (b) =>
      `<p>${escape(b.text)}</p>` +
      (b.code ? `\n<p style="font:600 2rem/1.2 ui-monospace,monospace;letter-spacing:.3rem">${escape(b.code)}</p>` : '') +
      (b.link
        ? `\n<p><a href="${escape(b.link.href)}" style="background:#0b57d0;color:#fff;padding:.6rem 1rem;border-radius:.3rem;text-decoration:none">${escape(b.link.label)}</a></p>`
        : ''),
  )
  .join('\n')}
<p>— Analytica</p>
<p style="color:#666;font-size:.8rem">${
    ctx.unsubscribeUrl
      ? `You get this email because it is turned on in your Analytica settings. <a href="${escape(ctx.unsubscribeUrl)}">Turn these emails off</a>.`
      : 'You get this email because it is needed to use your Analytica account.'
  }</p>
</body></html>`;
  return { subject, text, html };
}

const schemas = {
  welcome: z.object({ verificationToken: z.string().optional(), verificationExpiresAt: z.string().optional() }),
  'one-time-code': z.object({
    purpose: z.enum(['bank-account', 'payment']),
    code: z.string().regex(/^\d{6}$/),
    expiresAt: z.string(),
    bankName: z.string().optional(),
    accountNumber: z.string().optional(),
    payeeName: z.string().optional(),
    amountMinor: z.union([z.number(), z.string()]).optional(),
    currency: z.string().optional(),
  }),
  'payment-result': z.object({
    // The final statuses that end in an email; named from the event contract's list, so a rename there fails here.
    status: z.enum(PAYMENT_STATUSES).extract(['SUCCEEDED', 'FAILED']),
    paymentId: z.string(),
    amountMinor: z.union([z.number(), z.string()]),
    currency: z.string(),
    payeeName: z.string(),
    reference: z.string().optional(),
    reason: z.string().nullable().optional(),
  }),
  'budget-overspent': z.object({
    period: z.enum(['MONTHLY', 'WEEKLY']),
    startsOn: z.string(),
    limitMinor: z.union([z.number(), z.string()]),
    spentMinor: z.union([z.number(), z.string()]),
    currency: z.string(),
  }),
  'price-alert': z.object({
    symbol: z.string(),
    direction: z.enum(['ABOVE', 'BELOW']),
    threshold: z.number(),
    price: z.number(),
    triggeredAt: z.string(),
  }),
  anomaly: z.object({ title: z.string(), detail: z.string() }),
  digest: z.object({
    period: z.enum(['MONTHLY', 'WEEKLY']),
    startsOn: z.string(),
    endsOn: z.string(),
    totals: z.array(z.object({ currency: z.string(), incomeMinor: z.number(), spendingMinor: z.number() })),
    topSpending: z.array(z.object({ category: z.string(), amountMinor: z.number(), currency: z.string() })),
    insights: z.array(z.string()),
  }),
  'registration-attempt': z.object({ attemptedAt: z.string() }),
  'password-reset': z.object({ resetToken: z.string().min(16).max(100), expiresAt: z.string() }),
  'email-change-verification': z.object({ token: z.string().min(16).max(100), newEmail: z.string(), expiresAt: z.string() }),
  'email-changed': z.object({ newEmail: z.string(), changedAt: z.string() }),
} satisfies Record<Template, z.ZodType>;

type Data<T extends Template> = z.infer<(typeof schemas)[T]>;

const templates: { [T in Template]: (data: Data<T>, ctx: RenderContext) => RenderedEmail } = {
  welcome(data, ctx) {
    const blocks: Block[] = [{ text: 'Welcome to Analytica: your budgets, markets, news and payments in one place.' }];
    if (data.verificationToken) {
      const href = `${ctx.appUrl}/verify-email?token=${encodeURIComponent(data.verificationToken)}`;
      blocks.push({
        text: `Please confirm your email address${data.verificationExpiresAt ? ` before ${when(data.verificationExpiresAt)}` : ''}.`,
        link: { label: 'Confirm my email address', href },
      });
      blocks.push({ text: `Or send the mutation verifyEmail(token: "${data.verificationToken}") to the API.` });
    }
    return compose('Welcome to Analytica', ctx, blocks);
  },

  'one-time-code'(data, ctx) {
    const expires = `It works once, until ${when(data.expiresAt)}. If you did not ask for it, ignore this email and consider changing your password.`;
    if (data.purpose === 'bank-account') {
      const account = [data.bankName, data.accountNumber].filter(Boolean).join(' ');
      return compose(`Your code to verify ${data.accountNumber ?? 'your bank account'}`, ctx, [
        { text: `Enter this code in Analytica to verify the bank account ${account}:`, code: data.code },
        { text: expires },
      ]);
    }
    const amount = data.amountMinor !== undefined && data.currency ? money(data.amountMinor, data.currency) : 'a payment';
    return compose(`Confirm your payment of ${amount}`, ctx, [
      { text: `You asked to pay ${amount} to ${data.payeeName ?? 'a new payee'}. Enter this code in Analytica to send it:`, code: data.code },
      { text: expires },
    ]);
  },

  'payment-result'(data, ctx) {
    const amount = money(data.amountMinor, data.currency);
    const link = { label: 'See the payment', href: `${ctx.appUrl}/payments/${encodeURIComponent(data.paymentId)}` };
    if (data.status === 'SUCCEEDED') {
      return compose(`Payment of ${amount} to ${data.payeeName} sent`, ctx, [
        { text: `Your payment of ${amount} to ${data.payeeName}${data.reference ? ` (${data.reference})` : ''} has been sent.`, link },
      ]);
    }
    return compose(`Payment of ${amount} to ${data.payeeName} failed`, ctx, [
      { text: `Your payment of ${amount} to ${data.payeeName} could not be sent. No money left your account.` },
      { text: `Reason: ${data.reason ?? 'not given by the bank'}.`, link },
    ]);
  },

  'budget-overspent'(data, ctx) {
    const period = data.period === 'MONTHLY' ? 'monthly' : 'weekly';
    return compose(`You have gone over a ${period} budget`, ctx, [
      {
        text: `You have spent ${money(data.spentMinor, data.currency)} of your ${period} budget of ${money(data.limitMinor, data.currency)} (period starting ${data.startsOn}).`,
        link: { label: 'See your budgets', href: `${ctx.appUrl}/budgets` },
      },
    ]);
  },

  'price-alert'(data, ctx) {
    const moved = data.direction === 'ABOVE' ? 'risen above' : 'fallen below';
    return compose(`${data.symbol} has ${moved} ${data.threshold}`, ctx, [
      { text: `${data.symbol} traded at ${data.price} at ${when(data.triggeredAt)}, having ${moved} your alert level of ${data.threshold}.` },
    ]);
  },

  'registration-attempt'(data, ctx) {
    return compose('Someone tried to register with your address', ctx, [
      {
        text: `Someone tried to create an Analytica account with this email address at ${when(data.attemptedAt)}. Your address already has an account, so no new account was made and nothing changed.`,
      },
      {
        text: 'If that was you, sign in instead; if you forgot your password, change it after signing in. If it was not you, you can ignore this email.',
        link: { label: 'Sign in', href: `${ctx.appUrl}/login` },
      },
    ]);
  },

  'password-reset'(data, ctx) {
    const href = `${ctx.appUrl}/reset-password?token=${encodeURIComponent(data.resetToken)}`;
    return compose('Reset your Analytica password', ctx, [
      {
        text: `Someone (we hope you) asked to reset the password of your Analytica account. The link works once, until ${when(data.expiresAt)}.`,
        link: { label: 'Choose a new password', href },
      },
      { text: `Or send the mutation resetPassword(token: "${data.resetToken}", newPassword: "...") to the API. Every session of the account ends.` },
      { text: 'If you did not ask for it, ignore this email: your password stays as it is.' },
    ]);
  },

  'email-change-verification'(data, ctx) {
    const href = `${ctx.appUrl}/confirm-email-change?token=${encodeURIComponent(data.token)}`;
    return compose('Confirm your new Analytica address', ctx, [
      {
        text: `You asked to sign in to Analytica with ${data.newEmail} from now on. Confirm it before ${when(data.expiresAt)}; the link works once.`,
        link: { label: 'Confirm my new address', href },
      },
      { text: `Or send the mutation confirmEmailChange(token: "${data.token}") to the API.` },
      { text: 'If you did not ask for it, ignore this email: nothing changes.' },
    ]);
  },

  'email-changed'(data, ctx) {
    return compose('Your Analytica address was changed', ctx, [
      {
        text: `The sign-in address of your Analytica account was changed to ${data.newEmail} at ${when(data.changedAt)}. Emails go there from now on.`,
      },
      {
        text: 'If that was not you, reset your password from the new address at once, or contact support.',
        link: { label: 'Sign in', href: `${ctx.appUrl}/login` },
      },
    ]);
  },

  digest(data, ctx) {
    const what = data.period === 'MONTHLY' ? 'month' : 'week';
    const blocks: Block[] = data.totals.map((t) => ({
      text: `In ${t.currency}: ${money(t.incomeMinor, t.currency)} in, ${money(t.spendingMinor, t.currency)} out, ${money(t.incomeMinor - t.spendingMinor, t.currency)} net.`,
    }));
    if (data.topSpending.length) {
      blocks.push({ text: `Where the money went: ${data.topSpending.map((s) => `${s.category} ${money(s.amountMinor, s.currency)}`).join(', ')}.` });
    }
    for (const insight of data.insights) blocks.push({ text: insight });
    blocks.push({ text: `The whole report and your insights are in Analytica.`, link: { label: 'See your report', href: `${ctx.appUrl}/insights` } });
    return compose(`Your ${what} from ${data.startsOn} to ${data.endsOn}`, ctx, blocks);
  },

  anomaly(data, ctx) {
    return compose(data.title, ctx, [{ text: data.detail, link: { label: 'Review it in Analytica', href: `${ctx.appUrl}/insights` } }]);
  },
};

/** Renders one email; data that does not fit the template is a TemplateDataError. */
export function renderEmail(template: Template, data: Record<string, unknown>, ctx: RenderContext): RenderedEmail {
  const parsed = schemas[template].safeParse(data);
  if (!parsed.success) throw new TemplateDataError(`data for template ${template}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return (templates[template] as (d: unknown, c: RenderContext) => RenderedEmail)(parsed.data, ctx);
}
