import type { Logger } from '@analytica/logger';
import type { Redis } from '@analytica/redis';
import { createContractChecker } from './contract-check.js';
import { contractsFromRegistry } from './contracts.js';
import { trustedDocumentsFromRegistry } from './documents.js';
import { createPartnerGate } from './gate.js';
import { partnerQuotas } from './quotas.js';

export { createContractChecker, buildContract, type Contract } from './contract-check.js';
export type { OperationParams } from './gate.js';

/**
 * Partner enforcement at the gateway: contracts and trusted documents from the schema registry,
 * quotas in Redis. Without a registry the gate still stands, and refuses every partner token.
 */
export async function startPartnerAccess(options: {
  registryUrl?: string;
  registryToken?: string;
  pollSeconds: number;
  redis: Redis;
  logger: Logger;
  maxTokens: number;
  bodyLimitBytes: number;
}) {
  const { registryUrl, registryToken: token, logger } = options;
  const contracts = registryUrl ? contractsFromRegistry({ url: `${registryUrl}/api/contracts/schemas`, token, pollSeconds: options.pollSeconds, logger }) : undefined;
  await contracts?.start();
  const gate = createPartnerGate({
    contracts,
    documents: registryUrl ? trustedDocumentsFromRegistry({ baseUrl: registryUrl, token }) : undefined,
    quotas: partnerQuotas(options.redis, logger),
    checker: createContractChecker({ maxTokens: options.maxTokens }),
    bodyLimitBytes: options.bodyLimitBytes,
    logger,
  });
  return { ...gate, stop: () => contracts?.stop() };
}
