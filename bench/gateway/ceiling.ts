// The most answers a second any Node gateway could give in bench/gateway's dedup-on scenario on
// this machine, with this load generator: a server that does nothing but answer every POST with
// the published 87.6 KB answer, already in memory (what a gateway whose every request shared one
// answer would cost at best), driven exactly as run.ts drives the gateways (bench/lib/open-loop.ts,
// closed loop, 50 connections, every answer compared byte for byte). Whatever a gateway does
// beyond that only lowers the figure; the load generator's share of the 2 cores shows beside it.
//
//   npx tsx bench/gateway/ceiling.ts [--seconds 10] [--rounds 3]
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '@analytica/testing';
import { runLoad } from '../lib/open-loop.js';
import { machineBusySeconds, treeCpuSeconds } from '../market/lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const expected = await readFile(path.join(here, 'fixtures/expected-response.json'));

if (process.argv[2] === 'serve') {
  // The server: reads each body (as a gateway must) and answers the published bytes.
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': expected.length }).end(expected));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.argv[3]), '127.0.0.1', () => process.send?.('listening'));
} else {
  const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } } });
  const port = await freePort();
  const server = fork(fileURLToPath(import.meta.url), ['serve', String(port)], { execArgv: ['--import', 'tsx'] });
  await new Promise((resolve) => server.once('message', resolve));
  const body = JSON.stringify({ query: await readFile(path.join(here, 'fixtures/query.graphql'), 'utf8') });
  try {
    for (let round = 1; round <= Number(args.rounds); round++) {
      const before = { server: treeCpuSeconds(server.pid!), machine: machineBusySeconds(), at: performance.now() };
      const r = await runLoad({
        url: `http://127.0.0.1:${port}/graphql`,
        connections: 50,
        seconds: Number(args.seconds),
        headers: { 'content-type': 'application/json' },
        body,
        expectedAnswer: expected,
      });
      const serverMs = ((treeCpuSeconds(server.pid!) - before.server) * 1000) / r.answered;
      const busy = ((machineBusySeconds() - before.machine) / ((performance.now() - before.at) / 1000)) * 100;
      process.stdout.write(
        `round ${round}: closed loop, 50 connections, ${r.achievedRate.toFixed(0)} answers/s, ${r.errors} errors; p50 ${r.latency.p50.toFixed(1)} ms; ` +
          `server ${serverMs.toFixed(3)} ms CPU/answer; load generator ${r.generator.cpuMsPerRequest.toFixed(3)} ms CPU/answer (${r.generator.cpuPercent.toFixed(0)} % of a core); machine busy ${busy.toFixed(0)} % of 200\n`,
      );
    }
  } finally {
    server.kill();
  }
}
