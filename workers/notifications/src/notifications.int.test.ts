import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, deadLetterTopic, encodeEvent, HEADER, type EventBus, type EventPayload, type ReceivedMessage, type Topic } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { parseSmtpCatcherEnv, startSmtpCatcher, type CaughtMessage } from '@analytica/smtp-catcher';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { parseNotificationsEnv, startNotificationsWorker, unsubscribeUrl } from './index.js';

const schema = uniqueName('notifications_test');
const prefix = `${uniqueName('t')}.`;
const logger = createLogger('test', 'silent');
let catcher: Awaited<ReturnType<typeof startSmtpCatcher>>;
let worker: Awaited<ReturnType<typeof startNotificationsWorker>>;
let bus: EventBus;
const deadLetters: ReceivedMessage[] = [];
let dlqWatch: { stop(): Promise<void> };

beforeAll(async () => {
  catcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: 'silent', PORT: '0', SMTP_PORT: '0' }));
  worker = await startNotificationsWorker(
    parseNotificationsEnv({
      LOG_LEVEL: 'silent',
      PORT: '0',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: prefix,
      SMTP_URL: catcher.smtpUrl,
      UNSUBSCRIBE_SECRET: 'test-unsubscribe-secret-0123456789abcdef',
      APP_URL: 'https://app.example',
      NOTIFICATION_RETRY_DELAYS_MS: '50,100',
    }),
  );
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'notifications-test', prefix, logger });
  dlqWatch = await bus.consume({ groupId: 'dlq-watch', topics: [deadLetterTopic('notifications.email.v1')], handle: async (m) => void deadLetters.push(m) });
});

afterAll(async () => {
  await dlqWatch?.stop();
  await bus?.close();
  await worker?.stop();
  await catcher?.stop();
  await dropSchema(schema);
});

async function publish<T extends Topic>(topic: T, key: string, payload: EventPayload<T>, id?: string) {
  const message = encodeEvent(topic, key, payload, id);
  await bus.publish(topic, [message]);
  return message.headers[HEADER.id]!;
}

async function register(name = 'Ada') {
  const user = { id: randomUUID(), email: `${uniqueName('ada')}@example.com` };
  await publish('user.registered.v1', user.id, {
    userId: user.id,
    email: user.email,
    displayName: name,
    registeredAt: new Date().toISOString(),
    verificationToken: 'a-verification-token-of-some-length',
  });
  await mailTo(user.email, 1);
  return user;
}

/** Waits until `count` emails reached the address, and answers them oldest first. */
async function mailTo(address: string, count: number, timeoutMs = 20_000): Promise<CaughtMessage[]> {
  return eventually(async () => {
    const mail = catcher.messages().filter((m) => m.to.includes(address.toLowerCase()));
    return mail.length >= count ? mail : undefined;
  }, timeoutMs);
}

const settled = (payment: Partial<EventPayload<'payments.status-changed.v1'>> & { userId: string }): EventPayload<'payments.status-changed.v1'> => ({
  paymentId: randomUUID(),
  bankAccountId: randomUUID(),
  status: 'SUCCEEDED',
  previousStatus: 'PROCESSING',
  reason: null,
  amountMinor: '4200',
  currency: 'EUR',
  payeeName: 'Corner Shop',
  reference: 'Groceries',
  bankReference: 'b-1',
  changedAt: new Date().toISOString(),
  ...payment,
});

describe('the notifications worker', () => {
  it('welcomes a registered user with the verification link, sent to the address they registered', async () => {
    const user = await register('Ada Lovelace');
    const [welcome] = await mailTo(user.email, 1);
    expect(welcome).toMatchObject({ subject: 'Welcome to Analytica', from: 'no-reply@analytica.dev' });
    expect(welcome!.text).toContain('Hello Ada Lovelace,');
    expect(welcome!.text).toContain('https://app.example/verify-email?token=a-verification-token-of-some-length');
    expect(welcome!.html).toContain('Confirm my email address');
    // Account emails cannot be turned off, so they carry no unsubscribe link.
    expect(welcome!.headers['list-unsubscribe']).toBeUndefined();
  });

  it('mails the result of a payment that succeeded or failed, and nothing for the steps between', async () => {
    const user = await register();
    await publish('payments.status-changed.v1', user.id, settled({ userId: user.id, status: 'PROCESSING', previousStatus: 'QUEUED' }));
    await publish('payments.status-changed.v1', user.id, settled({ userId: user.id }));
    await publish(
      'payments.status-changed.v1',
      user.id,
      settled({ userId: user.id, status: 'FAILED', reason: 'The bank declined the payment (INSUFFICIENT_FUNDS)', amountMinor: '999' }),
    );
    const mail = await mailTo(user.email, 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(
      catcher
        .messages()
        .filter((m) => m.to.includes(user.email))
        .map((m) => m.subject),
    ).toEqual(['Welcome to Analytica', 'Payment of 42.00 EUR to Corner Shop sent', 'Payment of 9.99 EUR to Corner Shop failed']);
    expect(mail[2]!.text).toContain('Reason: The bank declined the payment (INSUFFICIENT_FUNDS).');
    expect(mail[1]!.headers['list-unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:4022\/unsubscribe\?u=/);
    expect(mail[1]!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  });

  it('mails budget and price alerts', async () => {
    const user = await register();
    await publish('budget.overspent.v1', user.id, {
      userId: user.id,
      budgetId: randomUUID(),
      categoryId: randomUUID(),
      period: 'MONTHLY',
      startsOn: '2026-11-01',
      limitMinor: '40000',
      spentMinor: '41250',
      currency: 'EUR',
      crossedAt: new Date().toISOString(),
    });
    await publish('market.price-alert.v1', user.id, {
      userId: user.id,
      alertId: randomUUID(),
      symbol: 'AAPL',
      direction: 'BELOW',
      threshold: 180,
      price: 179.5,
      triggeredAt: new Date().toISOString(),
    });
    const mail = await mailTo(user.email, 3);
    expect(mail.map((m) => m.subject).sort()).toEqual(['AAPL has fallen below 180', 'Welcome to Analytica', 'You have gone over a monthly budget']);
  });

  it('sends one email per event however often the event is delivered', async () => {
    const user = await register();
    const payment = settled({ userId: user.id, payeeName: 'Twice Ltd' });
    const domainId = randomUUID();
    await publish('payments.status-changed.v1', user.id, payment, domainId);
    await publish('payments.status-changed.v1', user.id, payment, domainId);
    const requestId = randomUUID();
    const request = {
      userId: user.id,
      template: 'one-time-code' as const,
      data: { purpose: 'payment', code: '123456', expiresAt: new Date().toISOString(), payeeName: 'X', amountMinor: 1, currency: 'EUR' },
    };
    await publish('notifications.email.v1', user.id, request, requestId);
    await publish('notifications.email.v1', user.id, request, requestId);
    await mailTo(user.email, 3);
    await new Promise((r) => setTimeout(r, 1500));
    // Exactly one of each; the topics are consumed independently, so their order is not asserted.
    expect(
      catcher
        .messages()
        .filter((m) => m.to.includes(user.email))
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['Welcome to Analytica', 'Payment of 42.00 EUR to Twice Ltd sent', 'Confirm your payment of 0.01 EUR'].sort());
    const [row] = await worker.db.orm.em
      .getConnection()
      .execute<{ state: string; message_id: string }[]>('select state, message_id from sent_emails where event_id = ?', [requestId]);
    expect(row).toEqual({ state: 'SENT', message_id: `<${requestId}@analytica>` });
  });

  it('sends nothing for an event whose claim survived a crash: it may have gone out already', async () => {
    const user = await register();
    const requestId = randomUUID();
    await worker.db.orm.em
      .getConnection()
      .execute(`insert into sent_emails (event_id, user_id, template, state, claimed_at) values (?, ?, 'payment-result', 'SENDING', now())`, [requestId, user.id]);
    await publish('notifications.email.v1', user.id, { userId: user.id, template: 'anomaly', data: { title: 'Crashed', detail: 'x' } }, requestId);
    await publish('notifications.email.v1', user.id, { userId: user.id, template: 'anomaly', data: { title: 'After it', detail: 'x' } });
    const mail = await mailTo(user.email, 2);
    expect(mail.map((m) => m.subject)).toEqual(['Welcome to Analytica', 'After it']);
  });

  it('honours an unsubscribe link: that kind of email stops, security codes still come, and it can be turned back on', async () => {
    const user = await register();
    await publish('payments.status-changed.v1', user.id, settled({ userId: user.id, payeeName: 'Before' }));
    const [, first] = await mailTo(user.email, 2);
    const link = first!.headers['list-unsubscribe']!.slice(1, -1).replace('http://127.0.0.1:4022', worker.url);

    const page = await fetch(link);
    expect(await page.text()).toContain('Turn off payment results');
    const forged = await fetch(link.replace(/s=[^&]+/, 's=forged'), { method: 'POST' });
    expect(forged.status).toBe(400);
    const done = await fetch(link, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(await done.text()).toContain('You will no longer get payment results');

    await publish('payments.status-changed.v1', user.id, settled({ userId: user.id, payeeName: 'Suppressed' }));
    await publish('notifications.email.v1', user.id, {
      userId: user.id,
      template: 'one-time-code',
      data: { purpose: 'bank-account', code: '654321', expiresAt: new Date().toISOString(), accountNumber: '•••• 1234' },
    });
    await mailTo(user.email, 3);
    await new Promise((r) => setTimeout(r, 1000));
    expect(
      catcher
        .messages()
        .filter((m) => m.to.includes(user.email))
        .map((m) => m.subject),
    ).toEqual(['Welcome to Analytica', 'Payment of 42.00 EUR to Before sent', 'Your code to verify •••• 1234']);

    await fetch(link.replace('/unsubscribe', '/resubscribe'), { method: 'POST' });
    await publish('payments.status-changed.v1', user.id, settled({ userId: user.id, payeeName: 'Again' }));
    const mail = await mailTo(user.email, 4);
    expect(mail[3]!.subject).toBe('Payment of 42.00 EUR to Again sent');
  });

  it('sends the weekly digest insight asks for, once per request, and not to a user who turned insight emails off', async () => {
    const [ada, bob] = [await register('Ada'), await register('Bob')];
    const off = await fetch(unsubscribeUrl(worker.url, 'test-unsubscribe-secret-0123456789abcdef', bob.id, 'insights'), { method: 'POST' });
    expect(off.status).toBe(200);
    const digest = (userId: string): EventPayload<'notifications.email.v1'> => ({
      userId,
      template: 'digest',
      data: {
        period: 'WEEKLY',
        startsOn: '2026-02-23',
        endsOn: '2026-03-01',
        totals: [{ currency: 'EUR', incomeMinor: 0, spendingMinor: 6000 }],
        topSpending: [{ category: 'Groceries', amountMinor: 4500, currency: 'EUR' }],
        insights: [],
      },
    });
    const id = await publish('notifications.email.v1', ada.id, digest(ada.id));
    await publish('notifications.email.v1', ada.id, digest(ada.id), id); // redelivered
    await publish('notifications.email.v1', bob.id, digest(bob.id));
    const [, sent] = await mailTo(ada.email, 2);
    expect(sent!.subject).toBe('Your week from 2026-02-23 to 2026-03-01');
    expect(sent!.text).toContain('Where the money went: Groceries 45.00 EUR.');
    expect(sent!.headers['list-unsubscribe']).toContain('c=insights');
    await new Promise((r) => setTimeout(r, 1000));
    expect(catcher.messages().filter((m) => m.to.includes(ada.email.toLowerCase()))).toHaveLength(2);
    expect(
      catcher
        .messages()
        .filter((m) => m.to.includes(bob.email.toLowerCase()))
        .map((m) => m.subject),
    ).toEqual(['Welcome to Analytica']);
  });

  it('retries an email for a user whose address is not known yet, then dead-letters it with the reason', async () => {
    const stranger = randomUUID();
    const id = await publish('notifications.email.v1', stranger, { userId: stranger, template: 'anomaly', data: { title: 'Hm', detail: 'x' } });
    const letter = await eventually(async () => deadLetters.find((m) => m.headers[HEADER.id] === id), 20_000);
    expect(letter.headers[HEADER.reason]).toBe(`no email address is known for user ${stranger} yet`);
    expect(letter.headers[HEADER.attempt]).toBe('2');
  });

  it('dead-letters a malformed request and a template that cannot be rendered, and keeps sending', async () => {
    const user = await register();
    await bus.publish('notifications.email.v1', [{ key: user.id, value: '{"userId": 1}', headers: { [HEADER.id]: 'bad-request-1' } }]);
    const unrenderable = await publish('notifications.email.v1', user.id, { userId: user.id, template: 'price-alert', data: { symbol: 'AAPL' } });
    await publish('notifications.email.v1', user.id, { userId: user.id, template: 'anomaly', data: { title: 'Still flowing', detail: 'x' } });
    const mail = await mailTo(user.email, 2);
    expect(mail[1]!.subject).toBe('Still flowing');
    const malformed = await eventually(async () => deadLetters.find((m) => m.headers[HEADER.id] === 'bad-request-1'), 20_000);
    expect(malformed.headers[HEADER.reason]).toMatch(/^malformed message/);
    const template = await eventually(async () => deadLetters.find((m) => m.headers[HEADER.id] === unrenderable), 20_000);
    expect(template.headers[HEADER.reason]).toMatch(/data for template price-alert/);
  });

  it('answers /ready with PostgreSQL, Kafka and SMTP, and counts emails in /metrics', async () => {
    const ready = await fetch(`${worker.url}/ready`);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok', kafka: 'ok', smtp: 'ok' } });
    const metrics = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/emails_total\{template="welcome",outcome="sent",service="notifications-worker"\} \d+/);
    expect(metrics).toMatch(/emails_total\{template="payment-result",outcome="suppressed"/);
  });
});
