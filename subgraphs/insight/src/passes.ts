import type { Logger } from '@analytica/logger';

/**
 * Runs `pass` now and then every `intervalMs`, one pass at a time (a pass still running when the
 * timer fires is not started twice). A failed pass is logged and the next one tries again, so work
 * missed while the database was away is done late, not never.
 */
export function startPasses(options: { logger: Logger; intervalMs: number; what: string; pass: () => Promise<void> }) {
  let running: Promise<void> | undefined;
  const pass = () => {
    running ??= options
      .pass()
      .catch((err: unknown) => options.logger.error({ err }, `${options.what} failed; trying again at the next pass`))
      .finally(() => (running = undefined));
  };
  pass();
  const timer = setInterval(pass, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
