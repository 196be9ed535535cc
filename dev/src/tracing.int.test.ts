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
    const expected = { OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://127.0.0.1:9411/api/v2/spans', ZIPKIN_URL: 'http://127.0.0.1:9411', OTEL_TRACES_SAMPLER_ARG: '0.1' };
    expect(await tracingEnv(undefined)).toEqual(expected);
    expect(await tracingEnv(true)).toEqual(expected);
    expect(await tracingEnv(false)).toEqual({});
  });

  it('traces one request in ten unless the shell or the stack says otherwise', async () => {
    process.env.ZIPKIN_URL = 'http://127.0.0.1:9411';
    const shell = process.env.OTEL_TRACES_SAMPLER_ARG;
    try {
      delete process.env.OTEL_TRACES_SAMPLER_ARG;
      expect((await tracingEnv(undefined)).OTEL_TRACES_SAMPLER_ARG).toBe('0.1');
      expect((await tracingEnv(true, 1)).OTEL_TRACES_SAMPLER_ARG).toBe('1');
      process.env.OTEL_TRACES_SAMPLER_ARG = '0.5';
      expect((await tracingEnv(undefined)).OTEL_TRACES_SAMPLER_ARG).toBe('0.5');
      expect((await tracingEnv(undefined, 1)).OTEL_TRACES_SAMPLER_ARG).toBe('1');
    } finally {
      if (shell === undefined) delete process.env.OTEL_TRACES_SAMPLER_ARG;
      else process.env.OTEL_TRACES_SAMPLER_ARG = shell;
    }
  });

  it('leaves tracing off when no Zipkin answers, and refuses to start when tracing was required', async () => {
    process.env.ZIPKIN_URL = `http://127.0.0.1:${await freePort()}`;
    expect(await tracingEnv(undefined)).toEqual({});
    await expect(tracingEnv(true)).rejects.toThrow(/tracing was asked for but no Zipkin answers/);
  });
});
