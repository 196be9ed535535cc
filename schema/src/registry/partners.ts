import type { PartnerClaim, TokenVerifier } from '@analytica/auth';
import { GraphQLError } from 'graphql';
import { typescriptTypesOf } from '../typescript.js';
import { RegistryError } from './errors.js';
import type { ClassifiedChange } from './graph.js';

/**
 * Partner apps reach the registry with the access token they use for the graph (the user service
 * signs it; every service verifies it against the JWKS). Only a token carrying the `partner` claim
 * is let in: the claim names the app and its contract.
 */
export function partnerAuthenticator(verifier: TokenVerifier | undefined) {
  return async (authorization: string | undefined): Promise<PartnerClaim> => {
    if (!verifier) throw new RegistryError('FORBIDDEN', 'Partner access is not configured on this registry (JWKS_URL is not set).');
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new RegistryError('UNAUTHENTICATED', 'Send your access token: "Authorization: Bearer <token>" (POST /oauth/token with your client credentials).');
    let partner: PartnerClaim | undefined;
    try {
      partner = (await verifier.verify(token)).partner;
    } catch (error) {
      // The verifier's messages are safe to show (they never say why a token is not valid).
      throw new RegistryError('UNAUTHENTICATED', error instanceof GraphQLError ? error.message : 'The access token is not valid or has expired.');
    }
    if (!partner) throw new RegistryError('FORBIDDEN', 'This needs a partner app access token (OAuth2 client credentials from POST /oauth/token).');
    return partner;
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Everything that goes into the page goes through this: SDL descriptions and reasons are free text. */
export const escapeHtml = (text: unknown) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface PartnerDocsInput {
  partner: PartnerClaim;
  apiUrl: string;
  contract: { name: string; version: number; sdl: string };
  changelog: { version: number; createdAt: string; changes: ClassifiedChange[] }[];
}

/** The partner's documentation page: credentials, quotas, trusted documents, the SDL, its changelog and a typed client. */
export function partnerDocsPage({ partner, apiUrl, contract, changelog }: PartnerDocsInput): string {
  const e = escapeHtml;
  const base = apiUrl.replace(/\/+$/, '');
  const types = typescriptTypesOf(contract.sdl);
  const example = `${types}
// A minimal client: a token from the client credentials, one GraphQL call, typed by the types above.
const API = '${base}';

async function accessToken(clientId: string, clientSecret: string): Promise<string> {
  const response = await fetch(\`\${API}/oauth/token\`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  if (!response.ok) throw new Error(\`token refused: \${response.status} \${await response.text()}\`);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function graphql<Data, Variables = Record<string, never>>(token: string, query: string, variables?: Variables): Promise<Data> {
  const response = await fetch(\`\${API}/graphql\`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: \`Bearer \${token}\` },
    body: JSON.stringify({ query, variables }),
  });
  // Stay within your quota: RateLimit-Remaining and X-Quota-Remaining say what is left.
  const body = (await response.json()) as { data?: Data; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(body.errors.map((err) => \`\${err.extensions?.code ?? 'ERROR'}: \${err.message}\`).join('; '));
  return body.data as Data;
}
${
  /\bquote\(symbol: String!\): Quote\b/.test(contract.sdl)
    ? `
// For example:
const token = await accessToken(process.env.CLIENT_ID!, process.env.CLIENT_SECRET!);
const { quote } = await graphql<{ quote: Pick<Quote, 'symbol' | 'last'> | null }, QueryQuoteArgs>(token, 'query Quote($symbol: String!) { quote(symbol: $symbol) { symbol last } }', { symbol: 'AAPL' });
console.log(quote);
`
    : ''
}`;
  const changes = changelog.length
    ? changelog
        .map(
          (v) =>
            `<li><strong>Version ${e(v.version)}</strong> <time>${e(v.createdAt)}</time><ul>${
              v.changes.length ? v.changes.map((c) => `<li><span class="level ${e(c.level)}">${e(c.level)}</span> ${e(c.message)}</li>`).join('') : '<li>No change.</li>'
            }</ul></li>`,
        )
        .join('\n')
    : '<li>No version yet.</li>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Analytica API: contract ${e(contract.name)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1c2430; }
pre { background: #f4f6f8; padding: 1rem; overflow: auto; font-size: 13px; }
code { background: #f4f6f8; padding: 0 .2em; }
.level { font-size: 12px; font-weight: 600; padding: 0 .4em; border-radius: 3px; }
.BREAKING { background: #fdd; } .DANGEROUS { background: #ffe8c0; } .SAFE { background: #dfd; }
</style>
</head>
<body>
<h1>Analytica API for your app</h1>
<p>Contract <strong>${e(contract.name)}</strong> (version ${e(contract.version)}). App <code>${e(partner.appId)}</code>, scopes ${e(partner.scopes.join(', ') || 'none')}.</p>

<h2>1. Access token</h2>
<p>Exchange your client id and secret for an access token (OAuth2 client credentials), and send it as <code>Authorization: Bearer &lt;token&gt;</code>. Ask for a new one when it expires (<code>expires_in</code> seconds). To act for a user who granted your company consent, add <code>user_id</code>.</p>
<pre>curl -X POST ${e(base)}/oauth/token \\
  -d grant_type=client_credentials \\
  -d client_id=${e(partner.appId)} \\
  -d client_secret="$CLIENT_SECRET"</pre>
<p>The answer is <code>{ "access_token": "...", "token_type": "Bearer", "expires_in": ..., "scope": "..." }</code>. Send GraphQL to <code>${e(base)}/graphql</code>.</p>

<h2>2. Quotas</h2>
<p>Your app may send <strong>${e(partner.ratePerMinute)}</strong> requests a minute and <strong>${e(partner.dailyQuota)}</strong> a day. Every answer says where you stand:
<code>RateLimit-Limit</code>, <code>RateLimit-Remaining</code>, <code>RateLimit-Reset</code> (seconds) for the minute, <code>X-Quota-Limit</code> and <code>X-Quota-Remaining</code> for the day.
Over either limit a request fails with <code>RATE_LIMITED</code> and a <code>Retry-After</code> header: wait that many seconds.</p>

<h2>3. Trusted documents</h2>
<p>Register the operations your app sends: <code>PUT /api/partner/manifest</code> on the registry with <code>{ "operations": { "&lt;sha256 hex of the document&gt;": "&lt;document&gt;" } }</code> (at most 1,000; every document must be valid against your contract, or nothing is stored).
Then send only the hash, as Apollo's persisted queries do: <code>{ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "&lt;hash&gt;" } }, "variables": {...} }</code>.
${partner.trustedDocumentsOnly ? '<strong>Your app sends registered documents only</strong>: anything else fails with <code>PERSISTED_QUERY_NOT_FOUND</code>.' : 'Your app may also send documents in full.'}</p>

<h2>4. Your schema</h2>
<p>The fields your contract offers; anything else fails as an unknown field. A field marked <code>@deprecated</code> goes on the date its reason gives.</p>
<pre>${e(contract.sdl)}</pre>

<h2>5. Changelog</h2>
<ul>
${changes}
</ul>

<h2>6. A typed TypeScript client</h2>
<p>Types generated from your contract, and a minimal client (Node 20 or a browser; no dependency).</p>
<pre>${e(example)}</pre>
</body>
</html>
`;
}
