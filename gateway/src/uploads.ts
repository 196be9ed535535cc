import http from 'node:http';
import https from 'node:https';
import type { RequestHandler } from 'express';
import type { Logger } from '@analytica/logger';
import { forwardedHeaders } from './partners/token-endpoint.js';

/** Answer headers passed back from the budget service. */
const PASSED_BACK = ['content-type', 'cache-control', 'retry-after'];

/** The budget subgraph's routing URL in a supergraph (its `join__graph` entry). */
export function budgetUrlOf(supergraphSdl: string): string | undefined {
  return /@join__graph\(name: "budget", url: "([^"]+)"\)/.exec(supergraphSdl)?.[1];
}

/**
 * `PUT /uploads/statements/:id?token=…` on the gateway: statement files (up to 50 MB) go to the
 * budget service, which owns imports and streams them to object storage. The body is streamed
 * through, never held here; the token in the URL is the upload's credential and is checked there.
 * Clients see one endpoint, as for /graphql and /oauth/token.
 */
export function forwardUploads(budgetUrl: () => string | undefined, logger: Logger): RequestHandler {
  return (req, res) => {
    const base = budgetUrl();
    const unavailable = () => {
      if (res.headersSent) return res.destroy();
      res
        .status(503)
        .setHeader('connection', 'close')
        .json({ error: { code: 'SERVICE_UNAVAILABLE', message: 'Uploads cannot be received right now; send the file again shortly.' } });
    };
    if (!base) return unavailable();
    const target = new URL(req.originalUrl, base);
    const headers = forwardedHeaders(req, res, ['content-length', 'content-type']);
    let answered = false;
    const outgoing = (target.protocol === 'https:' ? https : http).request(target, { method: 'PUT', headers }, (answer) => {
      answered = true;
      res.status(answer.statusCode ?? 502);
      for (const name of PASSED_BACK) {
        const value = answer.headers[name];
        if (value !== undefined) res.setHeader(name, value);
      }
      answer.pipe(res);
      // Answered before the whole file arrived (a refusal: a wrong token, a wrong size): the budget
      // service wants no more of it. Stop sending it there and read the rest off the client's
      // connection, dropping it, as Node does with a body nobody reads: left unread, it holds up
      // the next request on that kept-alive connection.
      answer.on('end', () => {
        if (!req.complete) stopForwarding();
      });
    });
    const stopForwarding = () => {
      req.unpipe(outgoing);
      req.resume();
      outgoing.destroy();
    };
    outgoing.on('error', (err) => {
      stopForwarding();
      // A refusal (bad token, wrong size) is answered before the body is read, and the budget
      // service may then close the connection: writing the rest of the file fails, the answer stands.
      if (answered) return;
      logger.warn({ err, target: target.origin }, 'upload not forwarded to the budget service');
      unavailable();
    });
    // A client that goes away mid-file: the budget service sees the body end early and keeps nothing.
    req.on('aborted', () => outgoing.destroy(new Error('the client went away')));
    req.pipe(outgoing);
  };
}
