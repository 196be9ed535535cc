import client from 'prom-client';
import type { Logger } from '@analytica/logger';
import { parseLogLine, type FileOffset, type LogRow, type LogStore } from '@analytica/logstore';
import { backlogOf, checkRotation, logFilesIn, openTracked, readLines, type TrackedFile } from './files.js';

export interface ShipperOptions {
  store: LogStore;
  dir: string;
  logger: Logger;
  registry: client.Registry;
  retentionDays: number;
  pollMs: number;
  batchLines: number;
  retryMaxMs: number;
  /** How often retention runs (and once at start). */
  retentionEveryMs?: number;
}

const MAX_READ_BYTES = 1024 * 1024;
const RETRY_FIRST_MS = 200;
const DAY_MS = 86_400_000;

/**
 * Tails every `<source>.log` of a folder into the log store, like Promtail or Vector: the services
 * only ever write their files, so a store that is slow or down costs them nothing; the shipper
 * keeps its place in each file (in the store, with the lines) and catches up when it can.
 */
export function createShipper(options: ShipperOptions) {
  const { store, logger } = options;
  const lines = new client.Counter({
    name: 'log_shipper_lines_total',
    help: 'Log lines read from the files: stored, or dropped as older than the retention',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  const batches = new client.Counter({ name: 'log_shipper_batches_total', help: 'Writes to the log store by outcome', labelNames: ['outcome'], registers: [options.registry] });
  const backlog = new client.Gauge({ name: 'log_shipper_backlog_bytes', help: 'Bytes written to the log files and not yet stored', registers: [options.registry] });
  const storeUp = new client.Gauge({ name: 'log_shipper_store_up', help: '1 while the last write to the log store succeeded', registers: [options.registry] });
  const dropped = new client.Counter({ name: 'log_shipper_partitions_dropped_total', help: 'Day partitions dropped by retention', registers: [options.registry] });
  for (const outcome of ['stored', 'expired']) lines.inc({ outcome }, 0);
  for (const outcome of ['ok', 'failed']) batches.inc({ outcome }, 0);

  const files = new Map<string, TrackedFile>();
  let stored: Map<string, FileOffset> | undefined;
  let failures = 0;
  let outageSince: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  function storeFailed(error: unknown, what: string) {
    failures += 1;
    batches.inc({ outcome: 'failed' });
    storeUp.set(0);
    // Once per outage, not once per attempt: the shipper's own file is shipped too.
    if (outageSince === undefined) {
      outageSince = Date.now();
      logger.warn({ err: error, what }, 'log store unavailable; lines wait in the files and are shipped when it returns');
    }
  }

  function storeWorked() {
    if (outageSince !== undefined) logger.info({ outageMs: Date.now() - outageSince }, 'log store available again');
    outageSince = undefined;
    failures = 0;
    storeUp.set(1);
  }

  /** Finds new files, follows rotation, and stores what was written since the last pass. Answers whether more is waiting. */
  async function pass(): Promise<boolean> {
    if (!stored) {
      // The schema and the positions first: until they are read, nothing can be shipped without repeating lines.
      await store.migrate();
      stored = await store.readOffsets();
    }
    for (const [source, path] of await logFilesIn(options.dir)) {
      if (files.has(source)) continue;
      const opened = await openTracked(source, path, stored.get(source));
      if (opened) files.set(source, opened);
    }
    const rows: LogRow[] = [];
    const moved: { file: TrackedFile; next: number }[] = [];
    let more = false;
    for (const file of files.values()) {
      await checkRotation(file);
      const room = options.batchLines - rows.length;
      if (room <= 0) {
        more = true;
        break;
      }
      const { lines: read, next } = await readLines(file, MAX_READ_BYTES, room);
      if (next === file.position && file.rotated) {
        // The rotated file is read to its end: the new one at the path starts from its first byte.
        await file.handle.close();
        files.delete(file.source);
        const reopened = await openTracked(file.source, file.path);
        if (reopened) files.set(file.source, reopened);
        more = true;
        continue;
      }
      const receivedAt = new Date();
      for (const line of read) {
        const row = parseLogLine(line, file.source, receivedAt);
        if (row) rows.push(row);
      }
      if (next !== file.position) moved.push({ file, next });
      if (read.length === room) more = true;
    }
    if (moved.length) {
      const oldest = new Date(Date.now() - options.retentionDays * DAY_MS);
      const offsets = moved.map(({ file, next }) => ({ source: file.source, fileId: file.fileId, position: next }));
      const written = await store.write(rows, offsets, oldest);
      for (const { file, next } of moved) file.position = next;
      for (const offset of offsets) stored.set(offset.source, offset);
      lines.inc({ outcome: 'stored' }, written);
      lines.inc({ outcome: 'expired' }, rows.length - written);
      batches.inc({ outcome: 'ok' });
    }
    let waiting = 0;
    for (const file of files.values()) waiting += await backlogOf(file);
    backlog.set(waiting);
    return more;
  }

  async function loop() {
    if (stopped) return;
    let delay = options.pollMs;
    try {
      const more = await pass();
      storeWorked();
      if (more) delay = 0;
    } catch (error) {
      storeFailed(error, stored ? 'write' : 'migrate');
      delay = Math.min(options.retryMaxMs, RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 16));
    }
    if (!stopped) {
      timer = setTimeout(() => {
        running = loop();
      }, delay);
    }
  }

  async function retention() {
    try {
      const days = await store.dropExpired(options.retentionDays);
      if (days.length) {
        dropped.inc(days.length);
        logger.info({ days, retentionDays: options.retentionDays }, 'dropped log partitions past retention');
      }
    } catch (error) {
      logger.warn({ err: error }, 'log retention could not run; trying again at the next interval');
    }
  }

  return {
    start() {
      running = loop();
      void retention();
      retentionTimer = setInterval(() => void retention(), options.retentionEveryMs ?? 3_600_000);
      retentionTimer.unref();
    },
    /** Ships what is in the files now (one more pass when the store answers), then stops and closes the files. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(retentionTimer);
      await running;
      try {
        while (await pass());
      } catch {
        // The store is away: the lines stay in the files, and the positions tell the next start where to go on.
      }
      await Promise.all([...files.values()].map((f) => f.handle.close()));
      files.clear();
    },
    /** Whether the last attempt reached the store. */
    get healthy() {
      return outageSince === undefined && stored !== undefined;
    },
  };
}
