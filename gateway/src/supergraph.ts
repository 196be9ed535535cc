import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '@analytica/logger';

/**
 * Serves the composed supergraph from a file. With `watch`, a changed file is loaded again and
 * the gateway swaps schemas without dropping requests; a file that does not compose is refused
 * by the gateway and the previous schema stays in service.
 */
export function supergraphFromFile(path: string, options: { watch: boolean; logger: Logger }): SupergraphManager {
  return {
    async initialize({ update }) {
      let current = await readFile(path, 'utf8');
      let timer: NodeJS.Timeout | undefined;
      const reload = async () => {
        try {
          const next = await readFile(path, 'utf8');
          if (next === current || next.trim() === '') return;
          update(next);
          current = next;
          options.logger.info({ path }, 'supergraph reloaded');
        } catch (error) {
          options.logger.error({ err: error, path }, 'supergraph reload refused; keeping the previous schema');
        }
      };
      const watcher = options.watch
        ? watch(path, () => {
            // Editors and compose write in several steps: settle before reading.
            clearTimeout(timer);
            timer = setTimeout(() => void reload(), 200);
          })
        : undefined;
      return {
        supergraphSdl: current,
        async cleanup() {
          clearTimeout(timer);
          watcher?.close();
        },
      };
    },
  };
}
