import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/** Wrong tries before a code is dead; with six digits that leaves a guesser a 1 in 200,000 chance. */
export const MAX_CODE_ATTEMPTS = 5;
/** New codes one bank account may ask for (a new code resets the tries, so this caps the guesses). */
export const MAX_CODES_PER_ACCOUNT = 5;

export function newOneTimeCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/**
 * Only an HMAC of the code is stored, bound to what it unlocks: a six-digit code has so few values
 * that a plain hash in a leaked table would be reversed at once, and binding stops a code for one
 * account (or payment) from being typed in for another.
 */
export function codeHash(secret: string, purpose: 'bank-account' | 'payment', subjectId: string, code: string): string {
  return createHmac('sha256', secret).update(`one-time-code\0${purpose}\0${subjectId}\0${code}`).digest('hex');
}

export function codeMatches(expectedHash: string | null, secret: string, purpose: 'bank-account' | 'payment', subjectId: string, code: string): boolean {
  if (!expectedHash || !/^\d{6}$/.test(code.trim())) return false;
  const given = Buffer.from(codeHash(secret, purpose, subjectId, code.trim()), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
