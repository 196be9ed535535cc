import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import client from 'prom-client';
import { SMTPServer } from 'smtp-server';
import { createLogger } from '@analytica/logger';
import { createHttpService } from '@analytica/service';
import type { SmtpCatcherEnv } from './environment.js';

export { parseSmtpCatcherEnv, smtpCatcherEnvShape, type SmtpCatcherEnv } from './environment.js';

/** One caught message, as the JSON API answers it. */
export interface CaughtMessage {
  id: string;
  messageId: string | null;
  from: string;
  /** The envelope recipients (RCPT TO), lower-cased: what the message was delivered to. */
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Record<string, string>;
  receivedAt: string;
}

const addresses = (value: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A local SMTP server that accepts every message and keeps it in memory, with a page and a JSON
 * API to read what arrived: the mail catcher of the embedded mode, the stack and the tests. Its
 * HTTP side is the shared service skeleton: /health, /ready (the SMTP listener), /metrics, drain.
 */
export async function startSmtpCatcher(env: SmtpCatcherEnv) {
  const logger = createLogger('smtp-catcher', env.LOG_LEVEL);
  const messages: CaughtMessage[] = [];
  const listeners = new Set<(message: CaughtMessage) => void>();
  const registry = new client.Registry();
  const caughtTotal = new client.Counter({ name: 'smtp_messages_caught_total', help: 'Messages accepted over SMTP', registers: [registry] });

  const smtp = new SMTPServer({
    banner: 'Analytica mail catcher',
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    // Clients keep connections open (pools): on stop, wait this long before closing them.
    closeTimeout: 1000,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'anyone' });
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const caught: CaughtMessage = {
            id: randomUUID(),
            messageId: parsed.messageId ?? null,
            from: addresses(parsed.from)[0] ?? (session.envelope.mailFrom ? session.envelope.mailFrom.address : ''),
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : null,
            // The raw header lines (unfolded), as a client would read them: keys lower-cased.
            headers: Object.fromEntries(
              parsed.headerLines.map((h) => [
                h.key,
                h.line
                  .slice(h.line.indexOf(':') + 1)
                  .replace(/\r?\n\s+/g, ' ')
                  .trim(),
              ]),
            ),
            receivedAt: new Date().toISOString(),
          };
          messages.push(caught);
          if (messages.length > env.MAILBOX_LIMIT) messages.splice(0, messages.length - env.MAILBOX_LIMIT);
          caughtTotal.inc();
          for (const listener of listeners) listener(caught);
          logger.info({ to: caught.to, subject: caught.subject }, 'mail caught');
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
  smtp.on('error', (error) => logger.warn({ err: error }, 'smtp connection error'));
  // SMTP is a ping-pong of small writes: without this, Nagle's algorithm meets the client's delayed
  // ACKs and every message waits ~40 ms.
  smtp.server.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(env.SMTP_PORT, env.HOST, () => resolve());
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const match = (url: URL) => {
    const to = url.searchParams.get('to')?.toLowerCase();
    return messages.filter((m) => !to || m.to.includes(to)).reverse();
  };

  const page = (url: URL) => `<!doctype html><html><head><meta charset="utf-8"><title>Caught mail</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}td,th{padding:.3rem .6rem;text-align:left;vertical-align:top}tr:nth-child(even){background:#f4f4f4}pre{white-space:pre-wrap}</style></head>
<body><h1>Caught mail (${messages.length})</h1><p>SMTP on ${env.HOST}:${smtpPort}. JSON: <a href="/messages">/messages</a> (filter with <code>?to=address</code>).</p>
<table><tr><th>received</th><th>to</th><th>subject</th><th></th></tr>
${match(url)
  .map(
    (m) =>
      `<tr><td>${m.receivedAt}</td><td>${escapeHtml(m.to.join(', '))}</td><td>${escapeHtml(m.subject)}</td><td><a href="/messages/${m.id}.html">html</a> · <a href="/messages/${m.id}">json</a></td></tr>`,
  )
  .join('\n')}
</table></body></html>`;

  // The page and the JSON API, as one handler behind the service's own routes.
  const mailbox = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page(url));
    } else if (req.method === 'GET' && url.pathname === '/messages') {
      json(200, { messages: match(url) });
    } else if (req.method === 'DELETE' && url.pathname === '/messages') {
      messages.length = 0;
      res.writeHead(204).end();
    } else if (req.method === 'GET' && url.pathname.startsWith('/messages/')) {
      const [id, format] = url.pathname.slice('/messages/'.length).split('.');
      const message = messages.find((m) => m.id === id);
      if (!message) json(404, { error: 'no such message' });
      else if (format === 'html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(message.html ?? `<pre>${escapeHtml(message.text)}</pre>`);
      } else json(200, message);
    } else {
      json(404, { error: 'not found' });
    }
  };
  const closeSmtp = () => new Promise<void>((resolve) => smtp.close(() => resolve()));
  const service = createHttpService({
    name: 'smtp-catcher',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    registry,
    readiness: {
      smtp: async () => {
        if (!smtp.server.listening) throw new Error('the SMTP listener is closed');
      },
    },
    routes: (app) => app.use(mailbox),
    // Clients of the page and the API keep no long requests: a short drain is plenty.
    drainTimeoutMs: 1000,
    onStop: closeSmtp,
  });
  const running = await service.start().catch(async (error: unknown) => {
    await closeSmtp();
    throw error;
  });
  logger.info({ smtp: `${env.HOST}:${smtpPort}`, url: running.url }, 'smtp catcher listening');

  return {
    url: running.url,
    port: running.port,
    metricsUrl: running.metricsUrl,
    smtpPort,
    smtpUrl: `smtp://${env.HOST}:${smtpPort}`,
    messages: () => [...messages],
    /** Calls `listener` for each message caught from now on; returns the unsubscribe function. */
    onMessage(listener: (message: CaughtMessage) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: running.stop,
  };
}
