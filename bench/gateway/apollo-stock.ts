// Stock Apollo Gateway as the public benchmark runs it (gateways/apollo-gateway/index.ts there):
// `@apollo/gateway` on the supergraph file behind `@apollo/server`'s standalone server, nothing
// else. One process (the published one forks availableParallelism() - 1 workers: one on 2 cores).
//
// FORWARD_AUTHORIZATION=true (bench/gateway/me.ts, our own supergraph): the caller's Authorization
// header goes on to every subgraph, the least any deployment of Apollo Gateway in front of
// subgraphs that check tokens needs (a RemoteGraphQLDataSource with willSendRequest, as Apollo
// documents it). The federation scenario runs without it, as published. SUBGRAPH_SIGNING_KEY
// (me.ts too): the stack's subgraphs refuse unsigned requests, so every subgraph request carries
// the signature our gateway sends.
//
//   SUPERGRAPH_PATH=bench/gateway/fixtures/supergraph.graphql PORT=4000 npx tsx bench/gateway/apollo-stock.ts
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { SIGNATURE_HEADER, signRequest } from '@analytica/service';

interface Context {
  authorization?: string;
}

const supergraphSdl = readFileSync(process.env.SUPERGRAPH_PATH ?? 'bench/gateway/fixtures/supergraph.graphql', 'utf8');
const forward = process.env.FORWARD_AUTHORIZATION === 'true';
const signingKey = process.env.SUBGRAPH_SIGNING_KEY;

/**
 * SUBGRAPH_SIGNING_KEY (me.ts): our subgraphs answer only requests signed with the stack's key
 * (packages/service/src/signing.ts), so Apollo's own fetcher gets the same signature header our
 * gateway sends, computed over the exact body Apollo serialised. Nothing else changes.
 */
function signing(dataSource: RemoteGraphQLDataSource<Context>, url: string, key: string) {
  const fetchUnsigned = dataSource.fetcher;
  const path = new URL(url).pathname;
  dataSource.fetcher = (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : '';
    const headers = { ...(init?.headers as Record<string, string>), [SIGNATURE_HEADER]: signRequest(key, { method: 'POST', path, body }) };
    return fetchUnsigned(input, { ...init, headers });
  };
  return dataSource;
}

const gateway = new ApolloGateway({
  supergraphSdl,
  ...(forward || signingKey
    ? {
        buildService: ({ url }) => {
          const dataSource = new RemoteGraphQLDataSource<Context>({
            url,
            willSendRequest({ request, context }) {
              if (forward && context.authorization) request.http?.headers.set('authorization', context.authorization);
            },
          });
          return signingKey && url ? signing(dataSource, url, signingKey) : dataSource;
        },
      }
    : {}),
});
const server = new ApolloServer<Context>({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 4000), host: '127.0.0.1' },
  context: async ({ req }) => (forward ? { authorization: req.headers.authorization } : {}),
});
process.stdout.write(`stock Apollo Gateway at ${url}\n`);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
