// Stock Apollo Gateway as the public benchmark runs it (gateways/apollo-gateway/index.ts there):
// `@apollo/gateway` on the supergraph file behind `@apollo/server`'s standalone server, nothing
// else. One process (the published one forks availableParallelism() - 1 workers: one on 2 cores).
//
// FORWARD_AUTHORIZATION=true (bench/gateway/me.ts, our own supergraph): the caller's Authorization
// header goes on to every subgraph, the least any deployment of Apollo Gateway in front of
// subgraphs that check tokens needs (a RemoteGraphQLDataSource with willSendRequest, as Apollo
// documents it). The federation scenario runs without it, as published.
//
//   SUPERGRAPH_PATH=bench/gateway/fixtures/supergraph.graphql PORT=4000 npx tsx bench/gateway/apollo-stock.ts
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

interface Context {
  authorization?: string;
}

const supergraphSdl = readFileSync(process.env.SUPERGRAPH_PATH ?? 'bench/gateway/fixtures/supergraph.graphql', 'utf8');
const forward = process.env.FORWARD_AUTHORIZATION === 'true';
const gateway = new ApolloGateway({
  supergraphSdl,
  ...(forward
    ? {
        buildService: ({ url }) =>
          new RemoteGraphQLDataSource<Context>({
            url,
            willSendRequest({ request, context }) {
              if (context.authorization) request.http?.headers.set('authorization', context.authorization);
            },
          }),
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
