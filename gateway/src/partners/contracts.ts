import type { Logger } from '@analytica/logger';
import { buildContract, type Contract } from './contract-check.js';

export interface ContractSource {
  /** The contract's current schema, or undefined when the registry does not publish it. */
  get(name: string): Contract | undefined;
  /** True once the registry has answered at least once: before that, partners are told to retry. */
  loaded(): boolean;
  stop(): void;
}

interface ContractsAnswer {
  contracts: { name: string; version: number; sdl: string }[];
}

/**
 * Contract schemas from the registry (`GET /api/contracts/schemas`), polled with If-None-Match so
 * that an unchanged set costs a 304. A contract whose SDL does not build keeps its previous
 * version (and is logged); a registry that is away keeps the last set. Nothing here ever lets a
 * partner through without a contract: an unknown contract is refused by the gate.
 */
export function contractsFromRegistry(options: {
  url: string;
  token?: string;
  pollSeconds: number;
  logger: Logger;
  timeoutMs?: number;
}): ContractSource & { start(): Promise<void> } {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  let contracts = new Map<string, Contract>();
  let etag: string | undefined;
  let loaded = false;
  let lastProblem: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function poll() {
    const response = await fetch(options.url, {
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(etag ? { 'if-none-match': etag } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 304) return;
    if (!response.ok) throw new Error(`registry answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const answer = (await response.json()) as ContractsAnswer;
    const next = new Map<string, Contract>();
    for (const { name, version, sdl } of answer.contracts) {
      const current = contracts.get(name);
      if (current?.version === version) {
        next.set(name, current);
        continue;
      }
      try {
        next.set(name, buildContract(name, version, sdl));
        logger.info({ contract: name, version }, 'contract schema loaded');
      } catch (error) {
        logger.error({ err: error, contract: name, version }, 'contract schema does not build; keeping the previous version');
        if (current) next.set(name, current);
      }
    }
    contracts = next;
    etag = response.headers.get('etag') ?? undefined;
    loaded = true;
  }

  const tick = async () => {
    try {
      await poll();
      if (lastProblem) logger.info({ url: options.url }, 'registry reachable again for contracts');
      lastProblem = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (lastProblem !== message) logger.warn({ err: error, url: options.url }, 'contracts could not be read from the registry; keeping the current set');
      lastProblem = message;
    } finally {
      if (!stopped) timer = setTimeout(() => void tick(), options.pollSeconds * 1000);
    }
  };

  return {
    get: (name) => contracts.get(name),
    loaded: () => loaded,
    /** The first poll, awaited (its failure is logged, not thrown: partners wait, users do not). */
    start: tick,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
