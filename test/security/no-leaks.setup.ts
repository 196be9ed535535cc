// Issue 21, acceptance 2: no response of the whole test suite carries SQL text, a schema or table
// name, or a stack trace. Loaded before every test file of every project (vitest.config.ts
// setupFiles), it watches what the test process receives, over every transport the tests use:
// - fetch (GraphQL over HTTP, SSE streams, every other HTTP answer);
// - WebSocket messages and close reasons (the `ws` package, which graphql-ws clients use too).
// It reads errors only, never data: a GraphQL error's message and extensions, a graphql-ws `error`
// message, and the body of an answer with an error status. Data a user sent, echoed back in a
// field, is not an error and is not looked at. A leak fails the test that was running when it
// arrived (afterEach), or the file (afterAll) when it arrived outside any test.
import { afterAll, afterEach } from 'vitest';
import WebSocket from 'ws';
import { leaksIn } from './leaks.js';

interface Leak {
  where: string;
  text: string;
  patterns: string[];
}
const leaks: Leak[] = [];

function check(where: string, text: string) {
  const patterns = leaksIn(text);
  if (patterns.length) leaks.push({ where, text: text.length > 600 ? `${text.slice(0, 600)}…` : text, patterns });
}

/** Each GraphQL error's message and extensions (path and locations are the client's own). */
function checkErrors(where: string, errors: unknown) {
  if (!Array.isArray(errors)) return;
  for (const error of errors as { message?: unknown; extensions?: unknown }[]) {
    check(where, JSON.stringify({ message: error?.message, extensions: error?.extensions }));
  }
}

/** A JSON body (an answer, an SSE event, a socket message): its errors, or all of it for an error status. */
function checkJson(where: string, text: string, failed: boolean) {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (failed) check(where, text);
    return;
  }
  if (body && typeof body === 'object' && 'errors' in body) checkErrors(where, (body as { errors: unknown }).errors);
  else if (failed) check(where, text);
}

/** Reads `data:` lines of a text/event-stream as they pass to the reader, without holding the stream. */
function watchEventStream(where: string, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let pending = '';
  let data: string[] = [];
  const line = (text: string) => {
    if (text === '') {
      if (data.length) checkJson(where, data.join('\n'), false);
      data = [];
    } else if (text.startsWith('data:')) data.push(text.slice(5).trimStart());
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        pending += decoder.decode(chunk, { stream: true });
        const lines = pending.split(/\r?\n/);
        pending = lines.pop() ?? '';
        lines.forEach(line);
      },
      flush() {
        if (pending) line(pending);
        line('');
      },
    }),
  );
}

const originalFetch = globalThis.fetch;
globalThis.fetch = async function watchedFetch(input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> {
  const response = await originalFetch(input, init);
  const where = `${init?.method ?? (input instanceof Request ? input.method : 'GET')} ${response.url || String(input)} (${response.status})`;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('text/event-stream') && response.body) {
    // Read as the test reads it: a copy would keep the stream (and its connection) open after the
    // test cancels its reader.
    const watched = new Response(watchEventStream(where, response.body), { status: response.status, statusText: response.statusText, headers: response.headers });
    Object.defineProperty(watched, 'url', { value: response.url });
    Object.defineProperty(watched, 'redirected', { value: response.redirected });
    return watched;
  }
  const failed = response.status >= 400;
  if (type.includes('json') || failed) {
    // A copy, read to its end in the background: finite answers only (streams are handled above).
    void response
      .clone()
      .text()
      .then((text) => (type.includes('json') ? checkJson(where, text, failed) : check(where, text)))
      .catch(() => undefined);
  }
  return response;
};

// Every socket of the process, client or server side: only graphql-ws `next` payloads with
// errors and `error` messages are errors; close reasons are read as they are short texts.
const originalEmit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function watchedEmit(this: WebSocket, event: string | symbol, ...args: unknown[]) {
  try {
    const where = `WebSocket ${this.url ?? '(server side)'}`;
    if (event === 'message') {
      const text = String(args[0]);
      const message = JSON.parse(text) as { type?: string; payload?: unknown };
      if (message.type === 'error') checkErrors(where, message.payload);
      else if (message.type === 'next' && message.payload && typeof message.payload === 'object') checkErrors(where, (message.payload as { errors?: unknown }).errors);
    } else if (event === 'close' && args[1] !== undefined) {
      check(`${where} closed ${String(args[0])}`, String(args[1]));
    }
  } catch {
    // Not JSON: not a graphql-ws message, nothing to read.
  }
  return originalEmit.call(this, event, ...args);
} as typeof WebSocket.prototype.emit;

/** The leaks recorded since the last check, removed: for the test of this file itself (no-leaks.test.ts). */
export function drainLeaks(): Leak[] {
  return leaks.splice(0);
}

function takeLeaks(): string | undefined {
  if (!leaks.length) return undefined;
  const found = leaks.splice(0);
  return (
    `${found.length} error answer(s) carried internals (SQL, a schema or table name, or a stack trace; issue 21):\n` +
    found
      .slice(0, 5)
      .map((l) => `- ${l.where}: ${l.text}\n  matched ${l.patterns.join(', ')}`)
      .join('\n')
  );
}

// Answers read in the background (the copies above) settle within a tick or two of the test's own read.
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

afterEach(async () => {
  await settle();
  const report = takeLeaks();
  if (report) throw new Error(report);
});

afterAll(async () => {
  await settle();
  const report = takeLeaks();
  if (report) throw new Error(report);
});
