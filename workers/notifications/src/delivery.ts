import { PermanentFailure, type Event } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import { DeliveryRefused, DeliveryUncertain, type Mailer } from './mailer.js';
import { isOptional, TEMPLATE_CATEGORY, unsubscribeUrl } from './preferences.js';
import { recipientFor } from './recipients.js';
import { renderEmail, TemplateDataError } from './templates.js';

export interface DeliverySettings {
  from: string;
  publicUrl: string;
  appUrl: string;
  unsubscribeSecret: string;
}

export type DeliveryOutcome = 'sent' | 'suppressed' | 'duplicate' | 'uncertain';

const run = (em: EntityManager, sql: string, params: unknown[]) => em.getConnection().execute(sql, params, 'all') as Promise<Record<string, unknown>[]>;

/**
 * Sends the email one `notifications.email.v1` event asks for, at most once.
 *
 * The event id is claimed in `sent_emails` (state SENDING, committed) before the SMTP server is
 * contacted, and the row only ever moves on to SENT or UNCERTAIN. A redelivered event, a retry
 * after a crash, or a second worker finds the claim and sends nothing. The claim is given back only
 * when nothing can have been delivered: the server refused the message, or the connection failed
 * before the whole message was handed over; the event is then retried (4xx, connection) or
 * dead-lettered (5xx). The price of "never twice" is paid in two narrow windows where an email can
 * be lost instead: the worker dying between the claim and the server's answer (the row stays
 * SENDING), and a connection that fails after the whole message was handed over but before the
 * answer (UNCERTAIN). Both are kept with the event id and the Message-ID `<event id@analytica>`, so
 * an operator can look them up in the mail server's log; neither is ever resent automatically.
 */
export async function deliverEmail(
  deps: { db: Database; mailer: Mailer; logger: Logger; settings: DeliverySettings },
  event: Event<'notifications.email.v1'>,
): Promise<DeliveryOutcome> {
  const { userId, template, data } = event.payload;
  const em = deps.db.fork();
  const category = TEMPLATE_CATEGORY[template];
  const optional = isOptional(category);
  const { recipient, subscribed: wanted } = await recipientFor(em, userId, category);
  const subscribed = !optional || wanted;
  const to = event.payload.to ?? recipient?.email;
  // user.registered.v1 travels on another topic and may not have arrived yet: retry later.
  if (!to) throw new Error(`no email address is known for user ${userId} yet`);
  let rendered;
  try {
    rendered = renderEmail(template, data, {
      displayName: recipient?.displayName || 'there',
      appUrl: deps.settings.appUrl,
      unsubscribeUrl: optional ? unsubscribeUrl(deps.settings.publicUrl, deps.settings.unsubscribeSecret, userId, category) : null,
    });
  } catch (error) {
    if (error instanceof TemplateDataError) throw new PermanentFailure(error.message);
    throw error;
  }

  const claimed = await run(
    em,
    `insert into sent_emails (event_id, user_id, template, recipient, state, claimed_at, finished_at)
     values (?, ?, ?, ?, ?, now(), case when ? then now() end)
     on conflict (event_id) do nothing returning event_id`,
    [event.id, userId, template, to, subscribed ? 'SENDING' : 'SUPPRESSED', !subscribed],
  );
  if (claimed.length === 0) {
    deps.logger.info({ eventId: event.id, template }, 'email already handled; not sent again');
    return 'duplicate';
  }
  if (!subscribed) return 'suppressed';

  const messageId = `<${event.id}@analytica>`;
  const headers: Record<string, string> = { 'X-Analytica-Event-Id': event.id, 'X-Analytica-Template': template };
  const unsubscribe = optional ? unsubscribeUrl(deps.settings.publicUrl, deps.settings.unsubscribeSecret, userId, category) : null;
  if (unsubscribe) {
    // RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this link.
    headers['List-Unsubscribe'] = `<${unsubscribe}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  try {
    const response = await deps.mailer.send({ from: deps.settings.from, to, subject: rendered.subject, text: rendered.text, html: rendered.html, messageId, headers });
    await run(em, `update sent_emails set state = 'SENT', message_id = ?, detail = ?, finished_at = now() where event_id = ?`, [messageId, response.slice(0, 500), event.id]);
    return 'sent';
  } catch (error) {
    if (error instanceof DeliveryUncertain) {
      await run(em, `update sent_emails set state = 'UNCERTAIN', message_id = ?, detail = ?, finished_at = now() where event_id = ?`, [
        messageId,
        error.message.slice(0, 500),
        event.id,
      ]);
      deps.logger.error({ eventId: event.id, messageId, err: error }, 'email may or may not have been delivered; not retried');
      return 'uncertain';
    }
    // Nothing was delivered: give the claim back so that the retry (or a replay) can send it.
    await run(em, `delete from sent_emails where event_id = ? and state = 'SENDING'`, [event.id]);
    if (error instanceof DeliveryRefused && error.permanent) throw new PermanentFailure(error.message);
    throw error;
  }
}
