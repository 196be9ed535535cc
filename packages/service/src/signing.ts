import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Subgraphs answer only the gateway (issue 17): the gateway signs every request it sends a
 * subgraph with a key both share (SUBGRAPH_SIGNING_KEY), and every subgraph checks the signature
 * before anything else (packages/service, `graphql.requireSignature`).
 *
 * The header: `x-analytica-signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `v1\n<METHOD>\n<path with query>\n<t>\n<hex SHA-256 of the body>`. A signature older or newer
 * than the clock window (SUBGRAPH_SIGNATURE_MAX_AGE_SECONDS, 30 s by default) is refused, so a
 * captured request cannot be replayed later; within the window it could be, which is why the
 * NetworkPolicy (infra/k8s) also keeps everyone but the gateway off the subgraphs' port.
 */
export const SIGNATURE_HEADER = 'x-analytica-signature';

export interface SignedRequest {
  method: string;
  /** The path and query the subgraph sees, e.g. `/graphql`. */
  path: string;
  body: string | Buffer;
}

const bodyHash = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');
const mac = (key: string, request: SignedRequest, timestamp: number) =>
  createHmac('sha256', key)
    .update(`v1\n${request.method.toUpperCase()}\n${request.path}\n${timestamp}\n${bodyHash(request.body)}`)
    .digest('hex');

/** The value of SIGNATURE_HEADER for one request, signed now (or at `nowMs`, for tests). */
export function signRequest(key: string, request: SignedRequest, nowMs = Date.now()): string {
  const timestamp = Math.floor(nowMs / 1000);
  return `t=${timestamp},v1=${mac(key, request, timestamp)}`;
}

/** Why a request was refused: no signature, a wrong one, or one outside the clock window. */
export type SignatureProblem = 'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' | 'SIGNATURE_EXPIRED';

export const SIGNATURE_MESSAGES: Record<SignatureProblem, string> = {
  SIGNATURE_MISSING: 'This service answers only the gateway: the request carries no gateway signature. Send it to the gateway instead.',
  SIGNATURE_INVALID: 'This service answers only the gateway: the request signature does not match. Send it to the gateway instead.',
  SIGNATURE_EXPIRED: "This service answers only the gateway: the request signature is outside the clock window (a replay, or the gateway's clock is off).",
};

/** Checks a request's SIGNATURE_HEADER; answers the problem, or undefined when it is the gateway's. */
export function verifyRequest(
  key: string,
  request: SignedRequest & { signature: string | string[] | undefined },
  options: { maxAgeSeconds: number; nowMs?: number },
): SignatureProblem | undefined {
  const header = Array.isArray(request.signature) ? request.signature[0] : request.signature;
  if (!header) return 'SIGNATURE_MISSING';
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!match) return 'SIGNATURE_INVALID';
  const timestamp = Number(match[1]);
  const expected = Buffer.from(mac(key, request, timestamp), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'))) return 'SIGNATURE_INVALID';
  // Checked after the MAC, so that "expired" is only ever said of a genuine (old) signature.
  if (Math.abs(Math.floor((options.nowMs ?? Date.now()) / 1000) - timestamp) > options.maxAgeSeconds) return 'SIGNATURE_EXPIRED';
  return undefined;
}
