import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

export interface ApiProblem {
  message: string;
  code?: string;
}

/** What went wrong with a request, as the API said it (message and extensions.code). */
export function problemsOf(error: unknown): ApiProblem[] {
  if (!error) return [];
  if (CombinedGraphQLErrors.is(error)) return error.errors.map((e) => ({ message: e.message, code: e.extensions?.code as string | undefined }));
  if (ServerError.is(error)) {
    // A refused request (400 for a field the schema lacks, 401, 429) still carries GraphQL errors.
    try {
      const body = JSON.parse(error.bodyText) as { errors?: { message: string; extensions?: { code?: string } }[] };
      if (body.errors?.length) return body.errors.map((e) => ({ message: e.message, code: e.extensions?.code }));
    } catch {
      // not JSON: fall through
    }
    return [{ message: `The API answered ${error.statusCode}.` }];
  }
  return [{ message: error instanceof Error ? error.message : String(error) }];
}

/** The field is not in the gateway's schema (yet): the page says so instead of failing. */
export const isMissingFromSchema = (problems: ApiProblem[]) =>
  problems.some((p) => p.code === 'GRAPHQL_VALIDATION_FAILED' && /Cannot query field|Unknown (type|argument)/.test(p.message));
