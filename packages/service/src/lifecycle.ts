import { logProcessWarnings, type Logger } from '@analytica/logger';

/**
 * The resources of one process (pools, clients, consumers, timers), opened in order and closed in
 * reverse. Every composition root needs the same three rules, and each written by hand missed one
 * somewhere: if a step of the start fails, what was already opened is closed before the error goes
 * on (or a half-started process hangs on its open sockets); on stop, a resource is closed only after
 * everything that uses it; and one close that fails is logged without keeping the others open.
 */
export interface Lifecycle {
  /** Opens a resource and remembers how to close it; if opening fails, closes the ones opened before and rethrows. */
  open<T>(name: string, make: () => T | Promise<T>, close: (resource: T) => unknown): Promise<T>;
  /** Runs a start-up step that opens nothing (a migration, a seed, a table check); if it fails, closes what is open and rethrows. */
  run<T>(name: string, step: () => T | Promise<T>): Promise<T>;
  /** Closes every open resource, the last opened first. Errors are logged, never thrown; a second call finds nothing to close. */
  closeAll(): Promise<void>;
}

export function lifecycle(logger: Logger): Lifecycle {
  // Node's warnings in the service's JSON log, not as plain text on stderr.
  logProcessWarnings(logger);
  const opened: { name: string; close: () => unknown }[] = [];

  let closing: Promise<void> | undefined;

  async function closeEach() {
    for (let entry = opened.pop(); entry; entry = opened.pop()) {
      try {
        await entry.close();
      } catch (error) {
        logger.error({ err: error, resource: entry.name }, `closing ${entry.name} failed`);
      }
    }
  }

  // A stop that arrives while a failed start is still closing waits for the same closing.
  function closeAll() {
    closing ??= closeEach().finally(() => (closing = undefined));
    return closing;
  }

  async function run<T>(name: string, step: () => T | Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      logger.error({ err: error, step: name }, `${name} failed during start; closing what was opened`);
      await closeAll();
      throw error;
    }
  }

  return {
    async open(name, make, close) {
      const resource = await run(name, make);
      opened.push({ name, close: () => close(resource) });
      return resource;
    },
    run,
    closeAll,
  };
}
