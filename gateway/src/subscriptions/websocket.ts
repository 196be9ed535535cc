import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import client from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { tokenExpiresAt, type AuthUser, type TokenVerifier } from '@analytica/auth';
import type { Logger } from '@analytica/logger';
import { overBudget } from '../request-budget.js';
import { revokes, type AdmitPartner, type SubscriptionHub } from './hub.js';

/** graphql-transport-ws close codes (github.com/enisdenjo/graphql-ws, PROTOCOL.md). */
export const CloseCode = {
  BadRequest: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  SubprotocolNotAcceptable: 4406,
  ConnectionInitialisationTimeout: 4408,
  SubscriberAlreadyExists: 4409,
  TooManyInitialisationRequests: 4429,
  /** Standard "service restart": graphql-ws clients reconnect and subscribe again. */
  ServiceRestart: 1012,
  /** Standard "try again later": the client stayed too far behind. */
  TryAgainLater: 1013,
  GoingAway: 1001,
} as const;

const PROTOCOL = 'graphql-transport-ws';
const MAX_CACHED_DOCUMENTS = 1000;

export interface WebSocketOptions {
  path: string;
  hub: SubscriptionHub;
  verifier: TokenVerifier;
  logger: Logger;
  registry: client.Registry;
  initTimeoutMs?: number;
  /** How often a connection's token is checked again (revocation, disabled users). */
  recheckMs?: number;
  /** Above this many unsent bytes a connection only keeps the latest result per subscription. */
  maxBufferedBytes?: number;
  /** A connection that stays behind this long is closed. */
  slowClientCloseMs?: number;
  maxSubscriptionsPerConnection?: number;
  admitPartner?: AdmitPartner;
  /** The parser's token limit, as over HTTP. */
  maxTokens?: number;
  /** Each subscribe spends one request of the user's budget (0, or seconds to wait: RATE_LIMITED). */
  spendBudget?: (user: AuthUser) => Promise<number>;
  /** The Origin check of HTTP (cors.ts): an upgrade it refuses is answered `refusal` and never becomes a socket. */
  admitOrigin?: { admits: (headers: IncomingHttpHeaders) => boolean; refusal: { status: number; body: string } };
}

interface Connection {
  socket: WebSocket;
  user: AuthUser | null;
  authorization: string | null;
  /** Closes the connection when its token expires; replaced when the client renews the token. */
  expiryTimer?: NodeJS.Timeout;
  subscriptions: Map<string, { unsubscribe(): void } | 'pending'>;
  /** Latest undelivered message (a whole frame) per subscription id while the socket is behind. */
  conflated: Map<string, Buffer>;
  /** Frames of this loop turn not yet written: written together, in one system call, at its end. */
  queue: Buffer[];
  queuedBytes: number;
  behindTimer?: NodeJS.Timeout;
  timers: NodeJS.Timeout[];
}

/**
 * The graphql-transport-ws protocol on the gateway's /graphql path. Written on `ws` directly, not
 * through graphql-ws's server, so that one serialised result goes to every subscriber as is and a
 * slow socket holds at most one result per subscription instead of a growing backlog.
 *
 * Sessions: a client renews its access token without closing anything by sending
 * `{"type":"ping","payload":{"authorization":"Bearer <new token>"}}` (the protocol allows any
 * payload on ping); the pong's payload says whether it was taken. A token left to expire closes the
 * socket with 4403, which graphql-ws clients retry: they reconnect with `connectionParams` (make it
 * a function that returns the current token) and subscribe again, starting from the current
 * values. A revoked session or a disabled user is closed with 4401, which clients do not retry:
 * sign in again.
 */
export function attachWebSocketServer(server: Server, options: WebSocketOptions) {
  const { hub, logger } = options;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const slowCloseMs = options.slowClientCloseMs ?? 10_000;
  const maxSubscriptions = options.maxSubscriptionsPerConnection ?? 100;
  const registers = [options.registry];
  const connectionsGauge = new client.Gauge({ name: 'subscription_connections', help: 'Open WebSocket connections', registers });
  const dropped = new client.Counter({ name: 'subscription_messages_dropped_total', help: 'Results replaced by a newer one at a slow client', registers });
  const slowClosed = new client.Counter({ name: 'subscription_slow_clients_closed_total', help: 'Connections closed for staying behind', registers });
  const writes = new client.Counter({
    name: 'subscription_socket_writes_total',
    help: 'Writes to WebSocket connections (each carries every message of its connection from one loop turn)',
    registers,
  });
  const framesOut = new client.Counter({ name: 'subscription_socket_frames_total', help: 'Messages written to WebSocket connections', registers });
  const connections = new Set<Connection>();
  const documents = new Map<string, DocumentNode>();
  const stopRevocations = hub.onRevocation((notice) => {
    for (const connection of connections) {
      if (!connection.user || !revokes(notice, connection.user)) continue;
      logger.info({ userId: connection.user.id, partnerId: connection.user.partner?.id }, 'closed a subscription socket of a revoked session');
      close(connection, CloseCode.Unauthorized, 'Unauthorized: the session was revoked; sign in again');
    }
  });

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 64 * 1024,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });

  const onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!isPath(request.url ?? '/', options.path)) {
      socket.destroy();
      return;
    }
    const origin = options.admitOrigin;
    if (origin && !origin.admits(request.headers)) {
      // The answer of an HTTP request from that origin: the same status, code and message.
      const body = Buffer.from(origin.refusal.body);
      socket.end(
        `HTTP/1.1 ${origin.refusal.status} Forbidden\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\nVary: Origin\r\nConnection: close\r\n\r\n${body.toString()}`,
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (socket: WebSocket) => {
    if (socket.protocol !== PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    const connection: Connection = {
      socket,
      user: null,
      authorization: null,
      subscriptions: new Map(),
      conflated: new Map(),
      queue: [],
      queuedBytes: 0,
      timers: [],
    };
    connections.add(connection);
    connectionsGauge.set(connections.size);
    const initTimer = setTimeout(() => close(connection, CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout'), options.initTimeoutMs ?? 5000);
    connection.timers.push(initTimer);
    let initialising = false;

    socket.on('message', (data, isBinary) => {
      if (isBinary) return close(connection, CloseCode.BadRequest, 'Invalid message received');
      let message: { type?: unknown; id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return close(connection, CloseCode.BadRequest, 'Invalid message received');
      }
      switch (message.type) {
        case 'connection_init': {
          if (initialising || connection.user) return close(connection, CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
          initialising = true;
          clearTimeout(initTimer);
          void authenticate(connection, message.payload);
          return;
        }
        case 'ping':
          if (isObject(message.payload) && 'authorization' in message.payload) return void renew(connection, message.payload.authorization);
          return send(connection, '{"type":"pong"}');
        case 'pong':
          return;
        case 'subscribe': {
          if (!connection.user) return close(connection, CloseCode.Unauthorized, 'Unauthorized');
          if (typeof message.id !== 'string' || !isObject(message.payload) || typeof message.payload.query !== 'string') {
            return close(connection, CloseCode.BadRequest, 'Invalid message received');
          }
          if (connection.subscriptions.has(message.id)) return close(connection, CloseCode.SubscriberAlreadyExists, `Subscriber for ${message.id} already exists`);
          // Held from now on, so that a `complete` sent while it is being set up ends it.
          connection.subscriptions.set(message.id, 'pending');
          void subscribe(connection, message.id, message.payload);
          return;
        }
        case 'complete': {
          if (typeof message.id !== 'string') return close(connection, CloseCode.BadRequest, 'Invalid message received');
          const handle = connection.subscriptions.get(message.id);
          connection.subscriptions.delete(message.id);
          connection.conflated.delete(message.id);
          if (handle && handle !== 'pending') handle.unsubscribe();
          return;
        }
        default:
          return close(connection, CloseCode.BadRequest, 'Invalid message received');
      }
    });
    socket.on('close', () => release(connection));
    socket.on('error', () => release(connection));
  });

  async function authenticate(connection: Connection, payload: unknown) {
    const raw = isObject(payload) ? (payload.authorization ?? payload.Authorization ?? payload.token) : undefined;
    if (typeof raw !== 'string' || raw.trim() === '') return close(connection, CloseCode.Unauthorized, 'Unauthorized: send the access token in connection_init');
    const token = raw.replace(/^Bearer\s+/i, '');
    try {
      connection.user = await options.verifier.verify(token);
    } catch {
      return close(connection, CloseCode.Forbidden, 'Forbidden: the access token is not valid');
    }
    connection.authorization = `Bearer ${token}`;
    armExpiry(connection, token);
    const recheck = setInterval(() => {
      const current = connection.authorization!.slice('Bearer '.length);
      options.verifier.verify(current).catch((error: unknown) => {
        // A check that could not run (Redis slow or down) is no verdict: try again next time.
        if ((error as { extensions?: { transient?: boolean } }).extensions?.transient) return;
        if (connection.authorization !== `Bearer ${current}`) return; // renewed meanwhile
        close(connection, CloseCode.Unauthorized, 'Unauthorized: the session was revoked; sign in again');
      });
    }, options.recheckMs ?? 30_000);
    connection.timers.push(recheck);
    send(connection, '{"type":"connection_ack"}');
  }

  function armExpiry(connection: Connection, token: string) {
    clearTimeout(connection.expiryTimer);
    const expiresAt = tokenExpiresAt(token);
    if (!expiresAt) return;
    connection.expiryTimer = setTimeout(
      () => close(connection, CloseCode.Forbidden, 'Forbidden: the access token expired; reconnect with a fresh one'),
      Math.max(0, expiresAt - Date.now()),
    );
  }

  /** A fresh token of the same user over the open socket: every subscription carries on with it. */
  async function renew(connection: Connection, raw: unknown) {
    const refuse = (message: string) => send(connection, JSON.stringify({ type: 'pong', payload: { renewed: false, message } }));
    if (!connection.user) return close(connection, CloseCode.Unauthorized, 'Unauthorized');
    if (typeof raw !== 'string' || raw.trim() === '') return refuse('Send the new access token as payload.authorization.');
    const token = raw.replace(/^Bearer\s+/i, '');
    let user: AuthUser;
    try {
      user = await options.verifier.verify(token);
    } catch {
      return refuse('The new access token is not valid; the connection keeps the one it has until it expires.');
    }
    if (user.id !== connection.user.id) return refuse('The new access token belongs to another user; open a new connection for them.');
    connection.user = user;
    connection.authorization = `Bearer ${token}`;
    armExpiry(connection, token);
    const expiresAt = tokenExpiresAt(token);
    send(connection, JSON.stringify({ type: 'pong', payload: { renewed: true, ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}) } }));
  }

  async function subscribe(connection: Connection, id: string, payload: Record<string, unknown>) {
    const sendErrors = (errors: readonly GraphQLError[]) => {
      if (connection.subscriptions.get(id) === 'pending') connection.subscriptions.delete(id);
      send(connection, JSON.stringify({ id, type: 'error', payload: errors.map((e) => e.toJSON()) }));
    };
    // This one is already held (pending): more than the maximum refuses it.
    if (connection.subscriptions.size > maxSubscriptions) {
      return sendErrors([new GraphQLError(`A connection may hold at most ${maxSubscriptions} subscriptions.`, { extensions: { code: 'BAD_USER_INPUT' } })]);
    }
    // A subscribe is a request: it spends the user's request budget as an HTTP request does.
    const wait = options.spendBudget ? await options.spendBudget(connection.user!) : 0;
    if (wait > 0) return sendErrors([overBudget(wait)]);
    let query = payload.query as string;
    const partner = connection.user?.partner;
    if (partner) {
      if (!options.admitPartner) return sendErrors([new GraphQLError('Partner apps cannot subscribe on this gateway.', { extensions: { code: 'FORBIDDEN' } })]);
      const admitted = await options.admitPartner(partner, payload);
      if ('errors' in admitted) return sendErrors(admitted.errors);
      query = admitted.query;
    }
    let document = documents.get(query);
    if (!document) {
      try {
        // The token limit of an HTTP request.
        document = parse(query, options.maxTokens ? { maxTokens: options.maxTokens } : undefined);
      } catch (error) {
        return sendErrors([new GraphQLError((error as Error).message.replace(/^Syntax Error: /, ''), { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
      }
      // Clients of one app send the same few operations: each text is parsed once (and the hub's
      // plan cache then finds the same document object).
      if (documents.size >= MAX_CACHED_DOCUMENTS) documents.delete(documents.keys().next().value!);
      documents.set(query, document);
    }
    // Encoded once per subscription; the payload once per result for all of its subscribers.
    const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
    const outcome = await hub.subscribe({
      document,
      operationName: typeof payload.operationName === 'string' ? payload.operationName : undefined,
      variables: isObject(payload.variables) ? payload.variables : {},
      user: connection.user!,
      requestId: randomUUID(),
      subscriber: {
        deliver: (json) => {
          if (connection.subscriptions.has(id)) deliver(connection, id, nextFrame(prefix, encoded(json)));
        },
        end: (reason) => close(connection, CloseCode.ServiceRestart, reason),
        authorization: () => connection.authorization!,
      },
    });
    if ('errors' in outcome) return sendErrors(outcome.errors);
    if (connection.subscriptions.get(id) !== 'pending') {
      // The client completed it (or left) while it was being set up.
      outcome.unsubscribe();
      return;
    }
    connection.subscriptions.set(id, outcome);
  }

  /**
   * The UTF-8 bytes of a result: every subscriber of an execution is handed the same string one
   * after another, so it is encoded once, not once per subscriber.
   */
  let lastJson: string | undefined;
  let lastBytes = Buffer.alloc(0);
  function encoded(json: string): Buffer {
    if (json !== lastJson) {
      lastBytes = Buffer.from(json);
      lastJson = json;
    }
    return lastBytes;
  }

  function deliver(connection: Connection, id: string, frame: Buffer) {
    const { socket } = connection;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount + connection.queuedBytes > maxBuffered || connection.conflated.size > 0) {
      if (connection.conflated.has(id)) dropped.inc();
      connection.conflated.set(id, frame);
      fallBehind(connection);
      return;
    }
    write(connection, frame);
  }

  /**
   * Queues a frame; the frames a connection gets in one loop turn (e.g. the current values of all
   * its symbols, or results of executions that finished together) go out in one write. Written to
   * the TCP socket directly: the frames are built here, so `ws` has nothing to add (no extension
   * is negotiated), and its bufferedAmount still counts what Node holds.
   */
  function write(connection: Connection, frame: Buffer) {
    if (connection.queue.length === 0) process.nextTick(flush, connection);
    connection.queue.push(frame);
    connection.queuedBytes += frame.length;
  }

  function flush(connection: Connection) {
    const { queue, queuedBytes, socket } = connection;
    if (queue.length === 0) return;
    connection.queue = [];
    connection.queuedBytes = 0;
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    if (socket.readyState !== socket.OPEN || !raw) return;
    writes.inc();
    framesOut.inc(queue.length);
    raw.write(queue.length === 1 ? queue[0]! : Buffer.concat(queue, queuedBytes));
  }

  /** A socket that cannot keep up gets the latest result per subscription once it drains. */
  function fallBehind(connection: Connection) {
    if (connection.behindTimer) return;
    connection.behindTimer = setTimeout(() => {
      slowClosed.inc();
      logger.warn({ userId: connection.user?.id, pending: connection.conflated.size }, 'closed a subscription socket that stayed behind');
      close(connection, CloseCode.TryAgainLater, 'Too slow: the connection stayed behind');
    }, slowCloseMs);
    const raw = (connection.socket as unknown as { _socket?: Socket })._socket;
    const flush = () => {
      if (connection.socket.bufferedAmount > maxBuffered) {
        raw?.once('drain', flush);
        return;
      }
      const frames = [...connection.conflated.values()];
      connection.conflated.clear();
      clearTimeout(connection.behindTimer);
      connection.behindTimer = undefined;
      for (const frame of frames) write(connection, frame);
    };
    raw?.once('drain', flush);
  }

  /** Every message the gateway sends goes through the same queue, so they keep their order. */
  function send(connection: Connection, message: string) {
    if (connection.socket.readyState === connection.socket.OPEN) write(connection, textFrame(Buffer.from(message)));
  }

  function close(connection: Connection, code: number, reason: string) {
    // What was sent before the close goes before the close frame.
    flush(connection);
    release(connection);
    if (connection.socket.readyState === connection.socket.OPEN || connection.socket.readyState === connection.socket.CONNECTING) {
      connection.socket.close(code, reason);
    }
  }

  function release(connection: Connection) {
    if (!connections.delete(connection)) return;
    connectionsGauge.set(connections.size);
    for (const timer of connection.timers) clearTimeout(timer);
    clearTimeout(connection.expiryTimer);
    clearTimeout(connection.behindTimer);
    for (const handle of connection.subscriptions.values()) if (handle !== 'pending') handle.unsubscribe();
    connection.subscriptions.clear();
    connection.conflated.clear();
  }

  return {
    connections: () => connections.size,
    async close(reason = 'The gateway is shutting down') {
      server.off('upgrade', onUpgrade);
      stopRevocations();
      for (const connection of [...connections]) close(connection, CloseCode.GoingAway, reason);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A server's (unmasked) final text frame: FIN and opcode 1, then the length in 1, 3 or 9 bytes (RFC 6455, 5.2). */
function frameHeader(frame: Buffer, length: number): number {
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
    return 2;
  }
  if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
    return 4;
  }
  frame[1] = 127;
  frame.writeUInt32BE(0, 2);
  frame.writeUInt32BE(length, 6);
  return 10;
}

const headerLength = (length: number) => (length < 126 ? 2 : length < 65536 ? 4 : 10);

/** One text frame carrying `payload`. */
export function textFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(headerLength(payload.length) + payload.length);
  payload.copy(frame, frameHeader(frame, payload.length));
  return frame;
}

const CLOSING_BRACE = 0x7d;

/** The frame of a `next` message: the subscription's encoded prefix, the shared payload, and "}". */
export function nextFrame(prefix: Buffer, payload: Buffer): Buffer {
  const length = prefix.length + payload.length + 1;
  const frame = Buffer.allocUnsafe(headerLength(length) + length);
  const at = frameHeader(frame, length);
  prefix.copy(frame, at);
  payload.copy(frame, at + prefix.length);
  frame[at + length - 1] = CLOSING_BRACE;
  return frame;
}

/** Whether a request's target names `path`: the plain forms without parsing a URL (once per connection), any other through URL. */
function isPath(target: string, path: string): boolean {
  if (target === path || (target.startsWith(path) && target.charCodeAt(path.length) === 0x3f)) return true;
  return new URL(target, 'http://gateway').pathname === path;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
