import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { parseSmtpCatcherEnv, startSmtpCatcher } from './index.js';

let catcher: Awaited<ReturnType<typeof startSmtpCatcher>>;

beforeAll(async () => {
  catcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: 'silent', PORT: '0', SMTP_PORT: '0', MAILBOX_LIMIT: '3' }));
});

afterAll(async () => {
  await catcher?.stop();
});

describe('the SMTP catcher', () => {
  it('accepts mail over SMTP and shows it as JSON, filtered by recipient, newest first', async () => {
    const transport = nodemailer.createTransport({ url: catcher.smtpUrl } as never);
    try {
      await transport.sendMail({ from: 'a@example.com', to: 'Ada@Example.com', subject: 'First', text: 'one', html: '<p>one</p>' });
      await transport.sendMail({ from: 'a@example.com', to: 'bob@example.com', subject: 'Second', text: 'two', headers: { 'X-Test': 'yes' } });
    } finally {
      transport.close();
    }
    const all = (await (await fetch(`${catcher.url}/messages`)).json()) as { messages: { subject: string; to: string[]; headers: Record<string, string> }[] };
    expect(all.messages.map((m) => m.subject)).toEqual(['Second', 'First']);
    expect(all.messages[0]!.headers['x-test']).toBe('yes');
    expect(all.messages[0]!.headers.to).toBe('bob@example.com');
    const ada = (await (await fetch(`${catcher.url}/messages?to=ada@example.com`)).json()) as { messages: { id: string; subject: string; text: string; html: string }[] };
    expect(ada.messages).toEqual([expect.objectContaining({ subject: 'First', text: 'one', to: ['ada@example.com'] })]);
    const html = await (await fetch(`${catcher.url}/messages/${ada.messages[0]!.id}.html`)).text();
    expect(html).toContain('<p>one</p>');
    const page = await (await fetch(`${catcher.url}/`)).text();
    expect(page).toContain('Caught mail (2)');
  });

  it('keeps only the newest MAILBOX_LIMIT messages, and forgets everything on DELETE', async () => {
    const transport = nodemailer.createTransport({ url: catcher.smtpUrl } as never);
    try {
      for (const n of [3, 4, 5]) await transport.sendMail({ from: 'a@example.com', to: 'c@example.com', subject: `M${n}`, text: 'x' });
    } finally {
      transport.close();
    }
    expect(catcher.messages().map((m) => m.subject)).toEqual(['M3', 'M4', 'M5']);
    expect((await fetch(`${catcher.url}/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(catcher.messages()).toEqual([]);
  });
});
