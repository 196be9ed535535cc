// The four subgraphs of the public gateways benchmark's federation scenario
// (graphql-hive/graphql-gateways-benchmark, subgraphs/*.rs, async-graphql in Rust there), rebuilt in
// Node with @apollo/subgraph and the same data, so that the deep query's answer is byte for byte
// the published one (fixtures/expected-response.json). Their quirks are kept: `Review.author` is always
// user 1 ("urigo", provided) with reviews 1-2; the reviews subgraph's `User` entity has reviews
// 1-2 whatever its id; inventory's `shippingEstimate` ignores the price and weight it requires
// (its own records have none), so it is always null.
//
// One process serves all four on one port, as the Rust server does (/accounts, /inventory,
// /products, /reviews), over plain node:http with kept-alive connections. It counts the requests
// each subgraph gets (GET /stats) so that the bench can state subgraph fetches per request.
//
//   PORT=4200 npx tsx bench/gateway/subgraphs.ts
import http from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

export const SUBGRAPH_NAMES = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

// Federation 1 SDL, as the Rust subgraphs declare themselves (`extends`, no @link): composition
// upgrades them, as it did for the published supergraph.
export const SDL: Record<SubgraphName, string> = {
  accounts: `
extend type Query {
  me: User
  user(id: ID!): User
  users: [User]
}
type User @key(fields: "id") {
  id: ID!
  name: String
  username: String
  birthday: Int
}`,
  inventory: `
extend type Product @key(fields: "upc") {
  upc: String! @external
  weight: Int @external
  price: Int @external
  inStock: Boolean
  shippingEstimate: Int @requires(fields: "price weight")
}`,
  products: `
extend type Query {
  topProducts(first: Int = 5): [Product]
}
type Product @key(fields: "upc") {
  upc: String!
  name: String
  price: Int
  weight: Int
}`,
  reviews: `
type Review @key(fields: "id") {
  id: ID!
  body: String
  product: Product
  author: User @provides(fields: "username")
}
extend type User @key(fields: "id") {
  id: ID! @external
  username: String @external
  reviews: [Review]
}
extend type Product @key(fields: "upc") {
  upc: String! @external
  reviews: [Review]
}`,
};

const USERS = [
  { id: '1', name: 'Uri Goldshtein', username: 'urigo', birthday: 1234567890 },
  { id: '2', name: 'Dotan Simha', username: 'dotansimha', birthday: 1234567890 },
  { id: '3', name: 'Kamil Kisiela', username: 'kamilkisiela', birthday: 1234567890 },
  { id: '4', name: 'Arda Tanrikulu', username: 'ardatan', birthday: 1234567890 },
  { id: '5', name: 'Gil Gardosh', username: 'gilgardosh', birthday: 1234567890 },
  { id: '6', name: 'Laurin Quast', username: 'laurin', birthday: 1234567890 },
];
const INVENTORY = [
  ['1', true],
  ['2', false],
  ['3', false],
  ['4', false],
  ['5', true],
  ['6', true],
  ['7', true],
  ['8', false],
  ['9', true],
].map(([upc, inStock]) => ({ upc: upc as string, inStock: inStock as boolean, price: null, weight: null }));
const PRODUCTS = [
  ['1', 'Table', 899, 100],
  ['2', 'Couch', 1299, 1000],
  ['3', 'Glass', 15, 20],
  ['4', 'Chair', 499, 100],
  ['5', 'TV', 1299, 1000],
  ['6', 'Lamp', 6999, 300],
  ['7', 'Grill', 3999, 2000],
  ['8', 'Fridge', 100000, 6000],
  ['9', 'Sofa', 9999, 800],
].map(([upc, name, price, weight]) => ({ upc: upc as string, name: name as string, price: price as number, weight: weight as number }));

const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';
const SED =
  'Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugi';
const QUIA =
  'sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem.';
const UT = 'Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi consequatur? Quis autem';
const AT =
  'At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat.';
const REVIEWS = (
  [
    ['1', LOREM, '1'],
    ['2', SED, '1'],
    ['3', QUIA, '1'],
    ['4', UT, '1'],
    ['5', LOREM, '2'],
    ['6', SED, '2'],
    ['7', QUIA, '2'],
    ['8', UT, '2'],
    ['9', UT, '3'],
    ['10', UT, '4'],
    ['11', AT, '4'],
  ] as const
).map(([id, body, upc]) => ({ id, body, product: { upc } }));
type ReviewRecord = (typeof REVIEWS)[number];

// The reviews subgraph's users: always reviews 1 and 2 (as in reviews.rs).
const reviewsUser = (id: string, username: string) => ({ id, username, reviews: REVIEWS.slice(0, 2) });

const resolvers: Record<SubgraphName, Record<string, Record<string, unknown>>> = {
  accounts: {
    Query: { me: () => USERS[0], user: (_: unknown, { id }: { id: string }) => USERS.find((u) => u.id === id) ?? null, users: () => USERS },
    User: { __resolveReference: ({ id }: { id: string }) => USERS.find((u) => u.id === id) },
  },
  inventory: {
    Product: {
      __resolveReference: ({ upc }: { upc: string }) => INVENTORY.find((p) => p.upc === upc),
      // The record's own price and weight (none), not the representation's: always null, as published.
      shippingEstimate: (p: { price: number | null; weight: number | null }) => (p.price === null ? null : p.price > 1000 ? 0 : p.weight === null ? null : p.weight / 2),
    },
  },
  products: {
    Query: { topProducts: (_: unknown, { first }: { first?: number | null }) => PRODUCTS.slice(0, first ?? 5) },
    Product: { __resolveReference: ({ upc }: { upc: string }) => PRODUCTS.find((p) => p.upc === upc) },
  },
  reviews: {
    Review: {
      __resolveReference: ({ id }: { id: string }) => REVIEWS.find((r) => r.id === id),
      author: () => reviewsUser('1', 'urigo'),
    },
    User: { __resolveReference: ({ id }: { id: string }) => reviewsUser(id, 'user') },
    Product: {
      __resolveReference: ({ upc }: { upc: string }) => ({ upc }),
      reviews: ({ upc }: { upc: string }) => REVIEWS.filter((r: ReviewRecord) => r.product.upc === upc),
    },
  },
};

export function buildSchemas(): Record<SubgraphName, GraphQLSchema> {
  return Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, buildSubgraphSchema({ typeDefs: parse(SDL[name]), resolvers: resolvers[name] as never })])) as Record<
    SubgraphName,
    GraphQLSchema
  >;
}

/** Serves the four subgraphs; resolves with the server once listening. */
export async function serveSubgraphs(port: number, host = '127.0.0.1') {
  const schemas = buildSchemas();
  const counts: Record<string, number> = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, 0]));
  // A gateway sends the same few documents again and again: parse and validate each once.
  const documents = new Map<string, DocumentNode | Error>();
  const prepared = (name: SubgraphName, query: string) => {
    const key = `${name}\n${query}`;
    let doc = documents.get(key);
    if (!doc) {
      try {
        const parsed = parse(query);
        const errors = validate(schemas[name], parsed);
        doc = errors.length ? new Error(errors.map((e) => e.message).join('; ')) : parsed;
      } catch (error) {
        doc = error as Error;
      }
      documents.set(key, doc);
    }
    return doc;
  };
  const server = http.createServer((req, res) => {
    const name = req.url?.slice(1).split('?')[0] as SubgraphName;
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
      return;
    }
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/ready')) {
      res.end('OK');
      return;
    }
    if (req.method === 'GET' && req.url === '/jwks') {
      // For our gateway's JWKS_URL: no token is ever sent in this scenario, so no key is needed.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
      return;
    }
    if (req.method !== 'POST' || !schemas[name]) {
      res.writeHead(404).end();
      return;
    }
    counts[name]!++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      let request: { query?: string; variables?: Record<string, unknown>; operationName?: string };
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof request;
      } catch {
        return send(400, { errors: [{ message: 'body is not JSON' }] });
      }
      const doc = prepared(name, request.query ?? '');
      if (doc instanceof Error) return send(400, { errors: [{ message: doc.message }] });
      Promise.resolve(execute({ schema: schemas[name], document: doc, variableValues: request.variables, operationName: request.operationName })).then(
        (result) => send(200, result),
        (error: Error) => send(500, { errors: [{ message: error.message }] }),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 4200);
  await serveSubgraphs(port);
  process.stdout.write(`subgraphs on http://127.0.0.1:${port}/{${SUBGRAPH_NAMES.join(',')}}\n`);
  process.on('SIGTERM', () => process.exit(0));
}
