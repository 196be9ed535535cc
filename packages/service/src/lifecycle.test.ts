import { describe, expect, it } from 'vitest';
import type { Logger } from '@analytica/logger';
import { lifecycle } from './lifecycle.js';

function recordingLogger() {
  const errors: { fields: Record<string, unknown>; msg: string }[] = [];
  const logger = { error: (fields: Record<string, unknown>, msg: string) => errors.push({ fields, msg }) } as unknown as Logger;
  return { logger, errors };
}

describe('lifecycle', () => {
  it('closes resources in the reverse of the order they were opened', async () => {
    const { logger } = recordingLogger();
    const events: string[] = [];
    const resources = lifecycle(logger);
    for (const name of ['postgres', 'kafka', 'consumer']) {
      await resources.open(
        name,
        () => events.push(`open ${name}`),
        () => events.push(`close ${name}`),
      );
    }
    await resources.closeAll();
    expect(events).toEqual(['open postgres', 'open kafka', 'open consumer', 'close consumer', 'close kafka', 'close postgres']);
  });

  it('hands back what was opened, and passes it to its close function', async () => {
    const { logger } = recordingLogger();
    const resources = lifecycle(logger);
    const closed: string[] = [];
    const pool = await resources.open(
      'pool',
      async () => ({ id: 'pool-1' }),
      (p) => closed.push(p.id),
    );
    expect(pool).toEqual({ id: 'pool-1' });
    await resources.closeAll();
    expect(closed).toEqual(['pool-1']);
  });

  it('when an open fails, closes what was opened before and rethrows the error', async () => {
    const { logger } = recordingLogger();
    const events: string[] = [];
    const resources = lifecycle(logger);
    await resources.open(
      'postgres',
      () => 'pg',
      () => events.push('close postgres'),
    );
    await resources.open(
      'redis',
      () => 'redis',
      () => events.push('close redis'),
    );
    const failure = new Error('broker unreachable');
    await expect(
      resources.open(
        'kafka',
        () => Promise.reject(failure),
        () => events.push('close kafka'),
      ),
    ).rejects.toBe(failure);
    expect(events).toEqual(['close redis', 'close postgres']);
  });

  it('when a start-up step fails, closes what is open and rethrows the error', async () => {
    const { logger } = recordingLogger();
    const events: string[] = [];
    const resources = lifecycle(logger);
    await resources.open(
      'dynamodb',
      () => 'dynamo',
      () => events.push('close dynamodb'),
    );
    expect(await resources.run('ensure tables', () => 'done')).toBe('done');
    await expect(
      resources.run('seed', () => {
        throw new Error('bad reference file');
      }),
    ).rejects.toThrow('bad reference file');
    expect(events).toEqual(['close dynamodb']);
  });

  it('logs an error in a close and still closes the rest, without throwing', async () => {
    const { logger, errors } = recordingLogger();
    const events: string[] = [];
    const resources = lifecycle(logger);
    await resources.open(
      'postgres',
      () => 'pg',
      () => events.push('close postgres'),
    );
    await resources.open(
      'redis',
      () => 'redis',
      async () => {
        throw new Error('connection reset');
      },
    );
    await resources.open(
      'relay',
      () => 'relay',
      () => events.push('close relay'),
    );
    await expect(resources.closeAll()).resolves.toBeUndefined();
    expect(events).toEqual(['close relay', 'close postgres']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields).toMatchObject({ resource: 'redis' });
    expect((errors[0]!.fields.err as Error).message).toBe('connection reset');
  });

  it('closes each resource once, however often it is asked to', async () => {
    const { logger } = recordingLogger();
    let closes = 0;
    const resources = lifecycle(logger);
    await resources.open(
      'dynamodb',
      () => 'dynamo',
      () => closes++,
    );
    await Promise.all([resources.closeAll(), resources.closeAll()]);
    await resources.closeAll();
    expect(closes).toBe(1);
  });
});
