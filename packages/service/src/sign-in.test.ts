import { parse, type OperationDefinitionNode, type FragmentDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isSignInOperation } from './index.js';

const check = (source: string) => {
  const document = parse(source);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const fragments = Object.fromEntries(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((d) => [d.name.value, d]));
  return isSignInOperation(operation, fragments);
};

describe('isSignInOperation', () => {
  it('admits mutations made of sign-in fields only', () => {
    expect(check('mutation { refreshSession(refreshToken: "r") { accessToken } }')).toBe(true);
    expect(check('mutation { a: login(email: "e", password: "p") { accessToken } b: requestPasswordReset(email: "e") __typename }')).toBe(true);
    expect(check('mutation { ... on Mutation { resetPassword(token: "t", newPassword: "p") } ...F } fragment F on Mutation { verifyEmail(token: "t") }')).toBe(true);
  });

  it('refuses everything else', () => {
    expect(check('mutation { refreshSession(refreshToken: "r") { accessToken } logout }')).toBe(false);
    expect(check('mutation { ...F } fragment F on Mutation { logoutEverywhere }')).toBe(false);
    expect(check('mutation { ...Missing }')).toBe(false);
    expect(check('mutation { __typename }')).toBe(false);
    expect(check('query { login }')).toBe(false);
    expect(check('{ me { id } }')).toBe(false);
    expect(isSignInOperation(undefined)).toBe(false);
  });
});
