import { generateSecret, generateURI, verify } from 'otplib';
import { badInput, conflict } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { UserRecord } from '../users/user.entity.js';

/**
 * TOTP (RFC 6238) as authenticator apps expect it: SHA-1, 6 digits, 30-second steps. A code is
 * accepted one step either side of now (clock drift) and only once: the step it matched is
 * stored, and codes from that step or earlier are refused afterwards.
 */
const TOLERANCE_SECONDS = 30;

export async function beginTotpEnrolment(em: EntityManager, user: UserRecord, issuer: string) {
  if (user.totpEnabledAt) throw conflict('Two-factor authentication is already on; turn it off first to enrol a new authenticator.');
  user.totpSecret = generateSecret();
  await em.flush();
  return { secret: user.totpSecret, otpauthUri: generateURI({ issuer, label: user.email, secret: user.totpSecret }) };
}

/**
 * Checks a code against the user's secret and, when it matches, records its time step in the
 * same statement that checks it was not used yet, so that two concurrent uses cannot both pass.
 */
export async function acceptTotpCode(em: EntityManager, user: UserRecord, code: string): Promise<boolean> {
  if (!user.totpSecret || !/^\d{6}$/.test(code)) return false;
  const lastStep = user.totpLastStep === null ? undefined : Number(user.totpLastStep);
  const result = await verify({
    secret: user.totpSecret,
    token: code,
    epochTolerance: TOLERANCE_SECONDS,
    ...(lastStep !== undefined ? { afterTimeStep: lastStep } : {}),
  });
  if (!result.valid || !('timeStep' in result)) return false;
  const step = String(result.timeStep);
  const updated = await em.nativeUpdate(UserRecord, { id: user.id, $or: [{ totpLastStep: null }, { totpLastStep: { $lt: step } }] }, { totpLastStep: step });
  if (updated !== 1) return false;
  user.totpLastStep = step;
  return true;
}

export async function confirmTotpEnrolment(em: EntityManager, user: UserRecord, code: string) {
  if (user.totpEnabledAt) throw conflict('Two-factor authentication is already on.');
  if (!user.totpSecret) throw badInput('code', 'Start with beginTotpEnrolment, then send a code from the authenticator app.');
  if (!(await acceptTotpCode(em, user, code))) throw badInput('code', 'The code is not correct; enter the current 6-digit code from the authenticator app.');
  user.totpEnabledAt = new Date();
  await em.flush();
}

export async function turnOffTotp(em: EntityManager, user: UserRecord) {
  user.totpSecret = null;
  user.totpEnabledAt = null;
  user.totpLastStep = null;
  await em.flush();
}
