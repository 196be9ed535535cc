import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Logger } from '@analytica/logger';

export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Fixed per email request, so that any copy of it carries the same Message-ID. */
  messageId: string;
  headers: Record<string, string>;
}

/** The server did not take the message (refused, or the connection failed before the message ended). */
export class DeliveryRefused extends Error {
  override name = 'DeliveryRefused';
  constructor(
    message: string,
    /** A 5xx answer: the same message will be refused again. */
    readonly permanent: boolean,
    /** The server answered (with a refusal), as opposed to the connection failing. */
    readonly answered = false,
  ) {
    super(message);
  }
}

/**
 * The whole message went out, then the connection failed before the server answered: it may or
 * may not have been queued, and there is no way to ask.
 */
export class DeliveryUncertain extends Error {
  override name = 'DeliveryUncertain';
}

/**
 * Sends mail over one reused SMTP connection and tells apart the failures that matter for sending
 * at most once: a refusal (nothing was delivered, so trying again is safe) from the one moment
 * that is uncertain (the message was handed over completely and no answer came back).
 */
export function createMailer(options: { url: string; timeoutMs: number; logger: Logger }) {
  const target = new URL(options.url);
  const auth = target.username ? { user: decodeURIComponent(target.username), pass: decodeURIComponent(target.password) } : undefined;
  let open: Promise<SMTPConnection> | undefined;
  // One message at a time on the connection: SMTP is a conversation.
  let queue: Promise<unknown> = Promise.resolve();

  function connect(): Promise<SMTPConnection> {
    const opening = new Promise<SMTPConnection>((resolve, reject) => {
      const connection = new SMTPConnection({
        host: target.hostname,
        port: Number(target.port || (target.protocol === 'smtps:' ? 465 : 25)),
        secure: target.protocol === 'smtps:',
        connectionTimeout: options.timeoutMs,
        greetingTimeout: options.timeoutMs,
        socketTimeout: options.timeoutMs,
        logger: false,
      });
      // A connection that fails or closes (the server's idle timeout) is replaced on the next send.
      const forget = () => {
        if (open === opening) open = undefined;
      };
      // Errors during a send also reach its callback; this listener keeps them from being unhandled.
      connection.on('error', (error: Error) => {
        options.logger.debug({ err: error }, 'smtp connection error');
        forget();
      });
      connection.on('end', forget);
      // A failed connect is reported as an 'error' (or 'end') event, not through the callback.
      const failed = (error?: Error) => reject(error ?? new Error('the SMTP server closed the connection'));
      connection.once('error', failed);
      connection.once('end', failed);
      connection.connect((error) => {
        if (error) return reject(error);
        // SMTP is a ping-pong of small writes: without this, Nagle's algorithm meets the server's
        // delayed ACKs and every message waits ~40 ms.
        (connection as unknown as { _socket?: Socket })._socket?.setNoDelay(true);
        const ready = () => {
          connection.off('error', failed);
          connection.off('end', failed);
          resolve(connection);
        };
        if (!auth) return ready();
        connection.login(auth, (loginError) => (loginError ? reject(loginError) : ready()));
      });
    });
    return opening;
  }

  async function compose(email: OutgoingEmail): Promise<Buffer> {
    const mail = new MailComposer({
      from: email.from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      html: email.html,
      messageId: email.messageId,
      headers: email.headers,
    });
    return new Promise((resolve, reject) => mail.compile().build((error, message) => (error ? reject(error) : resolve(message))));
  }

  async function sendNow(email: OutgoingEmail): Promise<string> {
    const raw = await compose(email);
    // A reused connection may have been closed by the server while idle: one fresh try then.
    for (let attempt = 1; ; attempt++) {
      const reused = open !== undefined;
      let connection: SMTPConnection;
      try {
        open ??= connect();
        connection = await open;
      } catch (error) {
        open = undefined;
        throw new DeliveryRefused(`could not reach the SMTP server: ${(error as Error).message}`, false);
      }
      try {
        return await sendOn(connection, email, raw);
      } catch (error) {
        open = undefined;
        connection.close();
        if (error instanceof DeliveryRefused && !error.answered && reused && attempt === 1) continue;
        throw error;
      }
    }
  }

  function sendOn(connection: SMTPConnection, email: OutgoingEmail, raw: Buffer): Promise<string> {
    // The body is read only after the server accepted the envelope (DATA, 354); once it has been
    // read to the end, the terminating dot may have reached the server.
    let handedOver = false;
    const body = Readable.from([raw]);
    body.once('end', () => (handedOver = true));
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      // A connection that drops mid-conversation may end without calling back: listen for that too.
      const onError = (error: Error) => done(error);
      const onEnd = () => done(new Error('the SMTP server closed the connection'));
      connection.once('error', onError);
      connection.once('end', onEnd);
      const done = (error: Error | null, info?: SMTPConnection.SentMessageInfo) => {
        if (settled) return;
        settled = true;
        connection.off('error', onError);
        connection.off('end', onEnd);
        if (!error) return resolve(info!.response);
        const smtpError = error as SMTPConnection.SMTPError;
        if (smtpError.responseCode) {
          reject(new DeliveryRefused(`the SMTP server refused the message: ${smtpError.response ?? smtpError.message}`, smtpError.responseCode >= 500, true));
        } else if (handedOver) {
          reject(new DeliveryUncertain(`the connection failed after the message was handed over: ${smtpError.message}`));
        } else {
          reject(new DeliveryRefused(`the connection failed before the message was handed over: ${smtpError.message}`, false));
        }
      };
      connection.send({ from: addressOf(email.from), to: [addressOf(email.to)] }, body, (error, info) => done(error ?? null, info));
    });
  }

  return {
    /** Resolves with the server's answer once it accepted the message; otherwise DeliveryRefused or DeliveryUncertain. */
    send(email: OutgoingEmail): Promise<string> {
      const sending = queue.then(() => sendNow(email));
      queue = sending.catch(() => undefined);
      return sending;
    },

    /** Checks that the SMTP server answers (for /ready). */
    async ping() {
      open ??= connect();
      try {
        await open;
      } catch (error) {
        open = undefined;
        throw error;
      }
    },
    async close() {
      const pending = open;
      open = undefined;
      const connection = await pending?.catch(() => undefined);
      connection?.quit();
    },
  };
}
export type Mailer = ReturnType<typeof createMailer>;

/** The bare address of "Name <address>". */
function addressOf(mailbox: string): string {
  return /<([^>]+)>\s*$/.exec(mailbox)?.[1] ?? mailbox.trim();
}
