import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@analytica/logger';
import { freePort } from '@analytica/testing';
import { createMailer, DeliveryRefused, DeliveryUncertain } from './mailer.js';

type Misbehaviour = 'accept' | 'reject-recipient' | 'reject-later' | 'drop-after-data' | 'drop-before-data';

/** A minimal SMTP server that misbehaves at a chosen step, to see how each failure is classified. */
async function fakeSmtp(mode: Misbehaviour) {
  const received: string[] = [];
  const server = net.createServer((socket) => {
    let inData = false;
    let data = '';
    socket.write('220 fake ESMTP\r\n');
    socket.on('data', (chunk) => {
      if (inData) {
        data += chunk.toString();
        if (data.includes('\r\n.\r\n')) {
          inData = false;
          if (mode === 'drop-after-data') return socket.destroy();
          if (mode === 'reject-later') return void socket.write('451 4.3.0 try again later\r\n');
          received.push(data);
          data = '';
          socket.write('250 2.0.0 queued\r\n');
        }
        return;
      }
      for (const line of chunk.toString().split('\r\n').filter(Boolean)) {
        const command = line.slice(0, 4).toUpperCase();
        if (command === 'EHLO' || command === 'HELO') socket.write('250-fake\r\n250 8BITMIME\r\n');
        else if (command === 'MAIL') socket.write('250 ok\r\n');
        else if (command === 'RCPT') socket.write(mode === 'reject-recipient' ? '550 5.1.1 no such user\r\n' : '250 ok\r\n');
        else if (command === 'DATA') {
          if (mode === 'drop-before-data') return socket.destroy();
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (command === 'RSET') socket.write('250 ok\r\n');
        else if (command === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('502 unknown\r\n');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const email = { from: 'Analytica <no-reply@analytica.dev>', to: 'ada@example.com', subject: 'Hi', text: 'Hello', html: '<p>Hello</p>', messageId: '<e1@analytica>', headers: {} };
const logger = createLogger('test', 'silent');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function mailerFor(mode: Misbehaviour) {
  const server = await fakeSmtp(mode);
  const mailer = createMailer({ url: server.url, timeoutMs: 2000, logger });
  cleanups.push(async () => {
    await mailer.close();
    await server.close();
  });
  return { server, mailer };
}

async function failureOf(promise: Promise<unknown>) {
  return promise.then(
    () => null,
    (error: unknown) => error,
  );
}

describe('the mailer', () => {
  it("sends over one reused connection and answers the server's acceptance", async () => {
    const { server, mailer } = await mailerFor('accept');
    expect(await mailer.send(email)).toMatch(/^250/);
    expect(await mailer.send({ ...email, messageId: '<e2@analytica>' })).toMatch(/^250/);
    expect(server.received).toHaveLength(2);
    expect(server.received[0]).toContain('Message-ID: <e1@analytica>');
  });

  it('calls a 5xx refusal permanent and a 4xx refusal passing: nothing was delivered either way', async () => {
    const rejected = await failureOf((await mailerFor('reject-recipient')).mailer.send(email));
    expect(rejected).toBeInstanceOf(DeliveryRefused);
    expect(rejected).toMatchObject({ permanent: true, answered: true });
    const later = await failureOf((await mailerFor('reject-later')).mailer.send(email));
    expect(later).toBeInstanceOf(DeliveryRefused);
    expect(later).toMatchObject({ permanent: false });
  });

  it('calls a connection lost before the message went out a refusal, and one lost after it uncertain', async () => {
    const before = await failureOf((await mailerFor('drop-before-data')).mailer.send(email));
    expect(before).toBeInstanceOf(DeliveryRefused);
    expect(before).toMatchObject({ permanent: false, answered: false });
    const after = await failureOf((await mailerFor('drop-after-data')).mailer.send(email));
    expect(after).toBeInstanceOf(DeliveryUncertain);
  });

  it('calls an SMTP server that cannot be reached a passing refusal', async () => {
    const mailer = createMailer({ url: `smtp://127.0.0.1:${await freePort()}`, timeoutMs: 1000, logger });
    const error = await failureOf(mailer.send(email));
    expect(error).toBeInstanceOf(DeliveryRefused);
    expect(error).toMatchObject({ permanent: false });
    await expect(mailer.ping()).rejects.toThrow();
    await mailer.close();
  });
});
