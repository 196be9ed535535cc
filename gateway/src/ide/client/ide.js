// The GraphQL IDE page's script (a browser bundle: gateway/src/ide/build.ts). GraphiQL from npm,
// with a sign-in form that calls the `login` mutation and puts the access token into the request
// headers editor. Everything it loads comes from the gateway itself (/ide/*).
/* global document, window */
import './workers.js';
import { createElement as h, useState, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { useGraphiQL } from '@graphiql/react';
import { createClient } from 'graphql-ws';
import 'graphiql/style.css';
import './ide.css';

const endpoint = new URL('/graphql', window.location.href).toString();
const wsEndpoint = endpoint.replace(/^http/, 'ws');

async function post(body, headers) {
  const response = await window.fetch(endpoint, {
    method: 'POST',
    headers: { ...headers, accept: 'application/graphql-response+json, application/json', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.json();
}

/** Queries and mutations over HTTP; subscriptions over the WebSocket (graphql-transport-ws), with the same headers. */
function fetcher(params, options) {
  const headers = options?.headers ?? {};
  const isSubscription = /^\s*subscription\b/m.test(params.query) && !/^\s*(query|mutation)\b/m.test(params.query);
  if (!isSubscription) return post(params, headers);
  const authorization = headers.Authorization ?? headers.authorization;
  const client = createClient({ url: wsEndpoint, lazy: true, retryAttempts: 0, connectionParams: authorization ? { authorization } : {} });
  const iterator = client.iterate(params);
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => iterator.next(),
      return: async () => {
        const result = await iterator.return?.();
        void client.dispose();
        return result ?? { done: true, value: undefined };
      },
    }),
  };
}

const LOGIN = 'mutation IdeLogin($email: String!, $password: String!, $totpCode: String) { login(email: $email, password: $password, totpCode: $totpCode) { accessToken } }';

/** Signs in and writes `Authorization: Bearer <accessToken>` into the headers editor. */
function SignIn() {
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const [status, setStatus] = useState('');
  const onSubmit = async (event) => {
    event.preventDefault();
    const form = new window.FormData(event.currentTarget);
    const variables = { email: String(form.get('email')), password: String(form.get('password')) };
    const totpCode = String(form.get('totpCode') ?? '').trim();
    if (totpCode) variables.totpCode = totpCode;
    setStatus('Signing in…');
    try {
      const answer = await post({ query: LOGIN, operationName: 'IdeLogin', variables }, {});
      const token = answer.data?.login?.accessToken;
      if (!token) {
        setStatus(answer.errors?.[0]?.message ?? 'Sign-in failed.');
        return;
      }
      let headers = {};
      try {
        headers = JSON.parse(headerEditor?.getValue() || '{}');
      } catch {
        headers = {};
      }
      delete headers.authorization;
      headerEditor?.setValue(JSON.stringify({ ...headers, Authorization: `Bearer ${token}` }, null, 2));
      setStatus(`Signed in as ${variables.email}: the Authorization header is set.`);
    } catch {
      setStatus('The gateway did not answer.');
    }
  };
  return h(
    'form',
    { className: 'analytica-login', 'aria-label': 'Sign in', onSubmit },
    h('input', { name: 'email', type: 'email', placeholder: 'email', autoComplete: 'username', required: true, 'aria-label': 'Email' }),
    h('input', { name: 'password', type: 'password', placeholder: 'password', autoComplete: 'current-password', required: true, 'aria-label': 'Password' }),
    h('input', { name: 'totpCode', type: 'text', placeholder: '2FA code (if on)', inputMode: 'numeric', 'aria-label': 'Two-factor code' }),
    h('button', { type: 'submit' }, 'Sign in'),
    h('output', { className: 'analytica-login-status', role: 'status' }, status),
  );
}

const defaultQuery = `# Sign in below (the demo user of npm start: demo@analytica.dev / demo-password-123),
# then run a query with the Authorization header it sets.
{
  me {
    id
    email
    watchlist { id symbol quote { id last changePercent } }
  }
}
`;

function App() {
  return h(
    GraphiQL,
    { fetcher, defaultQuery, defaultEditorToolsVisibility: 'headers', shouldPersistHeaders: false },
    h(GraphiQL.Logo, null, 'Analytica'),
    h(GraphiQL.Footer, null, h(SignIn)),
  );
}

createRoot(document.getElementById('graphiql')).render(h(StrictMode, null, h(App)));
