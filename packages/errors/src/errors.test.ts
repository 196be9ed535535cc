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

  it('answers a statement the database cancelled for its statement or lock timeout as SERVICE_UNAVAILABLE saying to retry, without the SQL', () => {
    for (const [code, text] of [
      ['57014', 'canceling statement due to statement timeout'],
      ['55P03', 'canceling statement due to lock timeout'],
    ]) {
      // As Apollo hands it over: a GraphQLError around the driver's error, which carries PostgreSQL's code.
      const driver = Object.assign(new Error(`select * from "budget"."accounts" for update - ${text}`), { code });
      const cause = new GraphQLError(driver.message, { originalError: driver });
      const logged: unknown[] = [];
      const formatted = withRequestId('req-2', () =>
        formatError(
          { message: driver.message, path: ['recordTransaction'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
          { cause, onInternal: (_e, details) => logged.push(details.requestId) },
        ),
      );
      expect(formatted.extensions, code).toEqual({ code: 'SERVICE_UNAVAILABLE', requestId: 'req-2' });
      expect(formatted.message, code).toMatch(/try again/);
      expect(formatted.path).toEqual(['recordTransaction']);
      expect(JSON.stringify(formatted), code).not.toMatch(/select|budget|accounts|canceling/);
      expect(logged, code).toEqual(['req-2']);
    }
    // Any other driver error stays the generic internal one.
    const other = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    expect(formatError({ message: other.message }, { cause: new GraphQLError(other.message, { originalError: other }) }).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('answers a dependency that cannot be reached or timed out as SERVICE_UNAVAILABLE naming the service, without the driver text (issue 20)', () => {
    const unreachable = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('insert into "budget"."outbox" ("id") values ($1) - Connection terminated unexpectedly'),
      // A server that accepts but stops answering: pg's client-side read and connect timeouts.
      new Error('select "a0".* from "budget"."accounts" as "a0" - Query read timeout'),
      new Error('timeout expired'),
      Object.assign(new Error('the database system is shutting down'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      Object.assign(new Error('a request has exceeded the configured 500 ms requestTimeout'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
    ];
    for (const driver of unreachable) {
      const cause = new GraphQLError(driver.message, { originalError: driver });
      const formatted = withRequestId('req-3', () =>
        formatError({ message: driver.message, path: ['me', 'accounts'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, { cause, serviceName: 'budget' }),
      );
      expect(formatted.extensions, driver.message).toEqual({ code: 'SERVICE_UNAVAILABLE', serviceName: 'budget', requestId: 'req-3' });
      expect(formatted.message).toMatch(/^The budget service cannot reach what it depends on right now, so this was not done; please try again/);
      expect(formatted.path).toEqual(['me', 'accounts']);
      expect(JSON.stringify(formatted)).not.toMatch(/insert|outbox|ECONN|5432|Connection|requestTimeout/);
    }
  });
});
