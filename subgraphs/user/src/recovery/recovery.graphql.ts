import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import { audit } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { metaOf, type UserContext } from '../context.js';
import { rateLimited } from '../limits.js';
import { revokeSessions } from '../sessions/sessions.js';
import { normaliseEmail, passwordMatches } from '../users/users.js';
import { UserRecord } from '../users/user.entity.js';
import { User } from '../users/users.graphql.js';
import { confirmEmailChange, requestEmailChange, requestPasswordReset, resetPassword } from './recovery.js';

/**
 * Account recovery and the change of sign-in address. requestPasswordReset, resetPassword and
 * confirmEmailChange authenticate by their arguments (no sign-in; a stale Authorization header is
 * ignored: packages/service SIGN_IN_FIELDS); changeEmail needs the signed-in user and the password.
 */
@Resolver(() => User)
export class RecoveryResolver {
  @Mutation(() => Boolean, {
    description:
      'Emails a password reset link (single use, valid 30 minutes) to the address if it has an account. The answer is true ' +
      'whether or not it has one, so it tells nothing about which addresses have accounts. Limited per address and per ' +
      'caller (RATE_LIMITED, with extensions.retryAfterSeconds).',
  })
  async requestPasswordReset(@Arg('email', () => String, { description: 'The address the account signs in with.' }) email: string, @Ctx() ctx: UserContext): Promise<boolean> {
    const normalised = normaliseEmail(email);
    const meta = metaOf(ctx);
    const wait = await ctx.limits.passwordResetRequested(normalised, ctx.clientIp);
    if (wait > 0) {
      await audit(ctx.em, AuditAction.PASSWORD_RESET_RATE_LIMITED, meta, { email: normalised, detail: { retryAfterSeconds: wait } });
      throw rateLimited(wait, `Too many password reset requests; try again in ${wait} s.`);
    }
    await requestPasswordReset(ctx.em, normalised, { ttlSeconds: ctx.settings.passwordResetTtlSeconds, meta });
    return true;
  }

  @Mutation(() => Boolean, {
    description:
      'Sets a new password with the token from a password reset email (it works once) and ends every session of the ' +
      'account: sign in again with the new password. The password rules are those of register.',
  })
  async resetPassword(
    @Arg('token', () => String, { description: 'The token from the password reset link.' }) token: string,
    @Arg('newPassword', () => String, { description: '12 to 256 characters, not a well-known password.' }) newPassword: string,
    @Ctx() ctx: UserContext,
  ): Promise<boolean> {
    const meta = metaOf(ctx);
    const user = await resetPassword(ctx.em, token, newPassword, meta);
    const count = await revokeSessions(ctx.em, ctx.revocations, user.id, { reason: 'password-reset' });
    // The new password starts with a clean slate of failed sign-ins for the account.
    await ctx.limits.loginSucceeded(user.email);
    await audit(ctx.em, AuditAction.LOGGED_OUT_EVERYWHERE, { ...meta, actorId: user.id }, { subjectId: user.id, detail: { sessionsRevoked: count, reason: 'password-reset' } });
    return true;
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'Asks to change your sign-in address: a link (single use, valid as long as a verification link) goes to the new ' +
      'address, and the change happens when it is followed (confirmEmailChange). Needs your password. The answer is true ' +
      'even when the new address has an account of its own (then no link is sent), so it tells nothing about other accounts.',
  })
  async changeEmail(
    @Arg('newEmail', () => String, { description: 'The address to sign in with from now on.' }) newEmail: string,
    @Arg('password', () => String, { description: 'Your current password.' }) password: string,
    @Ctx() ctx: UserContext,
  ): Promise<boolean> {
    const caller = requireUser(ctx);
    const meta = metaOf(ctx);
    const user = await ctx.em.findOneOrFail(UserRecord, { id: caller.id });
    const normalised = normaliseEmail(newEmail, 'newEmail');
    // A stolen access token must not turn into a password guesser: the sign-in limits apply.
    const wait = await ctx.limits.loginRetryAfter(user.email, ctx.clientIp);
    if (wait > 0) throw rateLimited(wait, `Too many wrong passwords; try again in ${wait} s.`);
    if (!(await passwordMatches(user, password))) {
      await ctx.limits.loginFailed(user.email, ctx.clientIp);
      await audit(ctx.em, AuditAction.EMAIL_CHANGE_REFUSED, meta, { subjectId: user.id, email: normalised, detail: { reason: 'password' } });
      throw badInput('password', 'The password is not correct.');
    }
    await requestEmailChange(ctx.em, user, normalised, { ttlSeconds: ctx.settings.emailVerificationTtlSeconds, meta });
    return true;
  }

  // No sign-in needed: holding the token proves the new mailbox, and the user may follow the link anywhere.
  @Mutation(() => Boolean, {
    description: 'Completes an email change with the token from the link sent to the new address; from then on it is the sign-in address.',
  })
  async confirmEmailChange(@Arg('token', () => String, { description: 'The token from the email change link.' }) token: string, @Ctx() ctx: UserContext): Promise<boolean> {
    await confirmEmailChange(ctx.em, token, metaOf(ctx));
    return true;
  }
}
