// A Kafka broker of one fault test's own, so that the test can SIGKILL it without touching the
// machine's shared broker (every other test uses that one at the same time). It runs from the same
// script and cached jars as the shared broker (infra/kafka/start.sh), on free ports, with its data
// in .data/test-kafka/<name>: killing it keeps its log on disk, and starting it again is a broker
// restart with every topic, message and committed offset it had.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@analytica/testing';
import { repoRoot } from '../../dev/src/processes.js';

function run(script: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(repoRoot, 'infra/kafka', script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`infra/kafka/${script} exited with ${code}:\n${output}`))));
  });
}

export async function startPrivateKafka(name: string) {
  const env = {
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    KAFKA_DATA_DIR: path.join(repoRoot, '.data/test-kafka', name),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
  };
  await run('start.sh', env);
  return {
    brokers: `127.0.0.1:${env.KAFKA_PORT}`,
    /** SIGKILL: a crash, with no controlled shutdown; connections reset, new ones refused. */
    kill() {
      const pid = Number(readFileSync(path.join(env.KAFKA_DATA_DIR, 'kafka.pid'), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
    },
    /** Starts it again on the same ports and data; resolves once it answers. */
    start: () => run('start.sh', env),
    async stop() {
      await run('stop.sh', env);
      rmSync(env.KAFKA_DATA_DIR, { recursive: true, force: true });
    },
  };
}

export type PrivateKafka = Awaited<ReturnType<typeof startPrivateKafka>>;
