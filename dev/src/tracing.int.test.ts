// Stack mode's tracing switch against the Zipkin that infra/up.sh starts and a port where none answers.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@analytica/testing';
import { tracingEnv } from './tracing.js';

const saved = process.env.ZIPKIN_URL;
afterEach(() => {
  if (saved === undefined) delete process.env.ZIPKIN_URL;
  else process.env.ZIPKIN_URL = saved;
});

describe('tracingEnv', () => {
  it('points every process at a Zipkin that answers, unless tracing is turned off', async () => {
    process.env.ZIPKIN_URL = 'http://127.0.0.1:9411/';
    const expected = {
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://127.0.0.1:9411/api/v2/spans',
      ZIPKIN_URL: 'http://127.0.0.1:9411',
      OTEL_TRACES_SAMPLER_ARG: '1',
      TRACES_PER_SECOND_MAX: '10',
    };
    expect(await tracingEnv(undefined)).toEqual(expected);
    expect(await tracingEnv(true)).toEqual(expected);
    expect(await tracingEnv(false)).toEqual({});
  });

  it('traces every request up to 10 new traces a second unless the shell or the stack says otherwise', async () => {
    process.env.ZIPKIN_URL = 'http://127.0.0.1:9411';
    const shell = { ratio: process.env.OTEL_TRACES_SAMPLER_ARG, ceiling: process.env.TRACES_PER_SECOND_MAX };
    const rule = (env: Record<string, string>) => [env.OTEL_TRACES_SAMPLER_ARG, env.TRACES_PER_SECOND_MAX];
    try {
      delete process.env.OTEL_TRACES_SAMPLER_ARG;
      delete process.env.TRACES_PER_SECOND_MAX;
      expect(rule(await tracingEnv(undefined))).toEqual(['1', '10']);
      // A stack that reads traces (tests) asks for its ratio, with no ceiling.
      expect(rule(await tracingEnv(true, 1))).toEqual(['1', '0']);
      process.env.OTEL_TRACES_SAMPLER_ARG = '0.5';
      process.env.TRACES_PER_SECOND_MAX = '3';
      expect(rule(await tracingEnv(undefined))).toEqual(['0.5', '3']);
      expect(rule(await tracingEnv(undefined, 1))).toEqual(['1', '0']);
    } finally {
      for (const [name, value] of [
        ['OTEL_TRACES_SAMPLER_ARG', shell.ratio],
        ['TRACES_PER_SECOND_MAX', shell.ceiling],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('leaves tracing off when no Zipkin answers, and refuses to start when tracing was required', async () => {
    process.env.ZIPKIN_URL = `http://127.0.0.1:${await freePort()}`;
    expect(await tracingEnv(undefined)).toEqual({});
    await expect(tracingEnv(true)).rejects.toThrow(/tracing was asked for but no Zipkin answers/);
  });
});
