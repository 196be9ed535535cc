/**
 * A refusal the API answers as JSON `{ error: { code, message, field?, ... } }` with an HTTP status.
 * The codes are the project's (BAD_USER_INPUT, NOT_FOUND, UNAUTHENTICATED, FORBIDDEN) plus
 * COMPOSITION_FAILED, whose `details` lists each composition error.
 */
export class RegistryError extends Error {
  constructor(
    readonly code: 'BAD_USER_INPUT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'COMPOSITION_FAILED' | 'INTERNAL_SERVER_ERROR',
    message: string,
    readonly extra: { field?: string; details?: string[] } = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  get status(): number {
    return { BAD_USER_INPUT: 400, NOT_FOUND: 404, UNAUTHENTICATED: 401, FORBIDDEN: 403, COMPOSITION_FAILED: 422, INTERNAL_SERVER_ERROR: 500 }[this.code];
  }

  toJSON() {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

export const badInput = (field: string, message: string) => new RegistryError('BAD_USER_INPUT', message, { field });
export const notFound = (field: string, message: string) => new RegistryError('NOT_FOUND', message, { field });
