/**
 * Node's own flags for the gateway process, wherever it is started: the stack (dev/src/stack.ts),
 * infra/docker/compose.yaml (as NODE_OPTIONS) and bench/gateway. They cannot be set from inside the
 * process: V8 sizes its heap before any of our code runs.
 *
 * A larger young generation. Executing a plan allocates a lot that dies young (subgraph answers
 * parsed, entities merged, the answer shaped and serialised); with V8's default 16 MB semi-spaces a
 * busy gateway collected garbage a fifth of its time and promoted what was still in flight to the
 * old generation, which costs more to collect again. Measured (bench/gateway/run.ts --baseline,
 * interleaved, 2026-12-07): 64 MB gave 0.81x the gateway's CPU per answer without deduplication and
 * 0.86x with; 128 MB 0.75x and 0.91x for twice the memory. The price is memory: up to about
 * 3 x 64 MB more for the young generation under load.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
