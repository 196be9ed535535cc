import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { badInput, formatError, withRequestId } from './index.js';

describe('formatError', () => {
  const leaky = new GraphQLError('insert into "sec_budget"."transactions" ("payee") values ($1) - invalid byte sequence for encoding "UTF8": 0x00', {
    extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at Query.run (/work/main/node_modules/pg/lib/client.js:1:1)'] },
  }).toJSON();

  it('answers an unexpected error, INTERNAL_SERVER_ERROR included, with a generic message and the request id, and logs the cause with that id', () => {
    const logged: unknown[] = [];
    const formatted = withRequestId('req-1', () => formatError(leaky, { cause: 'the driver error', onInternal: (_error, details) => logged.push(details) }));
    expect(formatted.message).toMatch(/^Something went wrong on our side\. The error was logged under request id req-1/);
    expect(formatted.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: 'req-1' });
    expect(JSON.stringify(formatted)).not.toMatch(/insert|sec_budget|transactions|0x00|node_modules/);
    expect(logged).toEqual([{ requestId: 'req-1', cause: 'the driver error' }]);
  });

  it('does the same for an error without a code, and whatever exposeDetails says', () => {
    const formatted = formatError({ message: 'TypeError: cannot read x of undefined' }, { exposeDetails: true });
    expect(formatted).toEqual({ message: 'Something went wrong on our side. The error was logged; please try again.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('keeps the message and field of an error written for the client, never a stack trace', () => {
    const formatted = formatError({
      ...badInput('input.payee', 'Give a payee.').toJSON(),
      extensions: { code: 'BAD_USER_INPUT', field: 'input.payee', stacktrace: ['at x (y.ts:1:1)'] },
    });
    expect(formatted).toEqual({ message: 'Give a payee.', extensions: { code: 'BAD_USER_INPUT', field: 'input.payee' } });
  });
});
