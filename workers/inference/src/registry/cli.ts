/**
 * The model registry from the command line (README "Models"):
 *
 *   npm run ml:publish [-- <artefacts dir>]              every version ml:train wrote (default ml/artefacts)
 *   npm run ml:activate -- <model> <version> [--force --reason "…"]
 *   npm run ml:rollback -- <model> [--reason "…"]
 *   npm run ml:models [-- <model>]                       versions, metrics, the active one, the audit log
 *
 * The store comes from S3_BUCKET (S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) or
 * OBJECTS_DIR, under MODEL_REGISTRY_PREFIX; with neither set, the stack's s3proxy (infra/up.sh).
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { committedArtefacts } from '../models/store.js';
import { parseInferenceEnv, registryFromEnv } from '../index.js';
import { MODELS, RegistryError, seedRegistry } from './registry.js';

/** The stack's s3proxy (infra/s3proxy), used when the environment names no store. */
export const STACK_OBJECTS = {
  S3_ENDPOINT: 'http://127.0.0.1:4569',
  S3_BUCKET: 'analytica',
  S3_ACCESS_KEY_ID: 'analytica',
  S3_SECRET_ACCESS_KEY: 'analytica-secret',
  S3_CREATE_BUCKET: 'true',
};

const USAGE = `usage: models publish [dir] | activate <model> <version> [--force --reason TEXT] | rollback <model> [--reason TEXT] | list [model]
models: ${MODELS.join(', ')}`;

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { force: { type: 'boolean', default: false }, reason: { type: 'string' } } });
  const [command, ...rest] = positionals;
  const source = process.env.S3_BUCKET || process.env.OBJECTS_DIR ? process.env : { ...process.env, ...STACK_OBJECTS };
  const env = parseInferenceEnv({ ...source, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
  const logger = createLogger('model-registry', env.LOG_LEVEL);
  const { registry, objects } = registryFromEnv(env, { logger, actor: `${os.userInfo().username}@${os.hostname()}` })!;
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  try {
    switch (command) {
      case 'publish': {
        const dir = path.resolve(rest[0] ?? committedArtefacts);
        print({ store: registry.description, ...(await seedRegistry(registry, dir)) });
        break;
      }
      case 'activate': {
        const [model, version] = rest;
        if (!model || !version) throw new RegistryError(USAGE);
        const result = await registry.activate(model, version, { force: values.force, ...(values.reason ? { reason: values.reason } : {}) });
        print({ store: registry.description, changed: result.changed, ...result.state });
        break;
      }
      case 'rollback': {
        const [model] = rest;
        if (!model) throw new RegistryError(USAGE);
        const result = await registry.rollback(model, values.reason ? { reason: values.reason } : {});
        print({ store: registry.description, rolledBack: result.rolledBack, ...result.state });
        break;
      }
      case 'list': {
        const models = rest[0] ? [rest[0]] : [...MODELS];
        const out: Record<string, unknown> = { store: registry.description };
        for (const model of models) {
          const versions = await registry.versions(model);
          out[model] = {
            ...(await registry.state(model)),
            versions: versions.map((m) => ({
              version: m.version,
              created: m.created,
              active: m.active,
              heldOut: m.heldOut,
              artefactKey: m.artefactKey,
              dataSha256: m.metrics.data?.sha256,
            })),
            audit: await registry.audit(model),
          };
        }
        print(out);
        break;
      }
      default:
        throw new RegistryError(USAGE);
    }
  } finally {
    objects.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof RegistryError || error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
