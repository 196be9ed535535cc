import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateSigningKeyPem } from '@analytica/auth';

/**
 * Secrets for running on one machine: made on first start and kept (mode 0600) in the
 * git-ignored data folder, so a restart keeps tokens valid. Production passes them as env.
 */
export interface LocalSecrets {
  jwtPrivateKey: string;
  bankFingerprintSecret: string;
  /** The schema registry's bootstrap admin token (REGISTRY_ADMIN_TOKEN). */
  registryAdminToken: string;
  /** SUBGRAPH_SIGNING_KEY: the gateway signs its subgraph requests with it; subgraphs refuse unsigned ones. */
  subgraphSigningKey: string;
}

export async function localSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = path.join(dataDir, 'secrets.json');
  try {
    const kept = JSON.parse(await readFile(file, 'utf8')) as LocalSecrets;
    if (kept.registryAdminToken && kept.subgraphSigningKey) return kept;
    // A data folder from before the schema registry or the subgraph signatures: add what is missing, keep the rest.
    const secrets = {
      ...kept,
      registryAdminToken: kept.registryAdminToken || randomBytes(32).toString('base64url'),
      subgraphSigningKey: kept.subgraphSigningKey || randomBytes(32).toString('base64url'),
    };
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 }).catch(() => undefined);
    return secrets;
  } catch {
    const secrets: LocalSecrets = {
      jwtPrivateKey: generateSigningKeyPem(),
      bankFingerprintSecret: randomBytes(32).toString('base64url'),
      registryAdminToken: randomBytes(32).toString('base64url'),
      subgraphSigningKey: randomBytes(32).toString('base64url'),
    };
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    await chmod(file, 0o600);
    return secrets;
  }
}
