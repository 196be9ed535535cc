import { Arg, Authorized, Ctx, Directive, Field, InputType, Int, Mutation, Resolver } from 'type-graphql';
import { requireSignedIn, requireUser } from '@analytica/auth';
import { AppError, badInput, ErrorCode, unauthenticated } from '@analytica/errors';
import { audit } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { rateLimited } from '../limits.js';
import { handleRefreshTokenReuse, openSession, revokeSessions, rotateRefreshToken } from './sessions.js';
import { acceptTotpCode } from '../totp/totp.js';
import { changePassword, passwordMatches, registerUser, userForSignIn, verifyEmail } from '../users/users.js';
import { UserRecord } from '../users/user.entity.js';
import { AuthPayload, authPayload, User } from '../users/users.graphql.js';
import { metaOf, type UserContext } from '../context.js';

@InputType('RegisterInput', { description: 'A new account (register).' })
class RegisterInput {
  @Field(() => String, { description: 'The address to sign in with; a verification link is sent to it.' }) email!: string;
  @Field(() => String, { description: '12 to 256 characters, not a well-known password.' }) password!: string;
  @Field(() => String, { description: 'The name shown in the app, 1 to 80 characters.' }) displayName!: string;
  @Field(() => String, { nullable: true, description: 'ISO 4217 code; EUR when omitted.' }) homeCurrency?: string;
}

const WRONG_CREDENTIALS = 'The email or password is not correct.';

const totpNeeded = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message, { totpRequired: true });

@Resolver(() => User)
export class SessionResolver {
  @Mutation(() => AuthPayload, { description: 'Creates an account and signs it in. A verification link is emailed.' })
  async register(
    @Arg('input', () => RegisterInput, { description: 'The address, password and name of the new account.' }) input: RegisterInput,
    @Ctx() ctx: UserContext,
  ): Promise<AuthPayload> {
    const meta = metaOf(ctx);
    const wait = await ctx.limits.registrationRetryAfter(ctx.clientIp);
    if (wait > 0) {
      await audit(ctx.em, AuditAction.REGISTRATION_RATE_LIMITED, meta, { email: input.email.trim().toLowerCase().slice(0, 254) });
      throw rateLimited(wait, `Too many accounts were created from this address; try again in ${wait} s.`);
    }
    const registered = await registerUser(ctx.em, input, {
      verificationTtlSeconds: ctx.settings.emailVerificationTtlSeconds,
      meta,
      fieldPrefix: 'input.',
      existing: 'answer',
    });
    // Every attempt that got this far counts, whether it made an account or not, so that the
    // per-address limit also bounds how many addresses one can try.
    await ctx.limits.registered(ctx.clientIp);
    // A taken address gets the decoy registerUser made, signed in exactly as a new account is.
    const user = 'existing' in registered ? registered.decoy : registered;
    const { session, ...issued } = await openSession(ctx.em, user, { ip: ctx.clientIp, totpVerified: false, refreshTtlSeconds: ctx.settings.refreshTokenTtlSeconds });
    return authPayload(ctx, user, session, issued);
  }

  @Directive('@tag(name: "console")')
  @Mutation(() => AuthPayload, {
    description:
      'Signs in. With two-factor authentication on, totpCode is the current code of the authenticator app. After too many ' +
      'wrong attempts the account is locked for a while (RATE_LIMITED, with extensions.retryAfterSeconds).',
  })
  async login(
    @Arg('email', () => String, { description: 'The address the account signs in with (any letter case).' }) email: string,
    @Arg('password', () => String, { description: "The account's password." }) password: string,
    @Arg('totpCode', () => String, { description: "The authenticator app's current six-digit code; needed when two-factor authentication is on.", nullable: true })
    totpCode: string | null | undefined,
    @Ctx() ctx: UserContext,
  ): Promise<AuthPayload> {
    const meta = metaOf(ctx);
    const normalised = email.trim().toLowerCase().slice(0, 254);
    const wait = await ctx.limits.loginRetryAfter(normalised, ctx.clientIp);
    if (wait > 0) {
      const known = await ctx.em.findOne(UserRecord, { email: normalised, decoyOf: null }, { fields: ['id'] });
      await audit(ctx.em, AuditAction.LOGIN_RATE_LIMITED, meta, { subjectId: known?.id, email: normalised, detail: { retryAfterSeconds: wait } });
      throw rateLimited(wait, `Too many failed sign-ins; try again in ${wait} s.`);
    }
    // The account, or a decoy registered for the address with this password (registerUser).
    const { account, user } = await userForSignIn(ctx.em, normalised, password);
    const failed = async (reason: 'password' | 'totp') => {
      const { accountLockedFor, ipLockedFor } = await ctx.limits.loginFailed(normalised, ctx.clientIp);
      await audit(ctx.em, AuditAction.LOGIN_FAILED, meta, { subjectId: account?.id, email: normalised, detail: { reason } });
      if (accountLockedFor || ipLockedFor) {
        await audit(ctx.em, AuditAction.ACCOUNT_LOCKED, meta, { subjectId: account?.id, email: normalised, detail: { accountLockedFor, ipLockedFor } });
      }
    };
    if (!user) {
      await failed('password');
      throw unauthenticated(WRONG_CREDENTIALS);
    }
    if (user.totpEnabledAt) {
      if (!totpCode) throw totpNeeded('Enter the 6-digit code from your authenticator app (totpCode).');
      if (!(await acceptTotpCode(ctx.em, user, totpCode))) {
        await failed('totp');
        throw totpNeeded('The code is not correct; enter the current 6-digit code from your authenticator app.');
      }
    }
    if (user.disabledAt) {
      await audit(ctx.em, AuditAction.LOGIN_REFUSED_DISABLED, meta, { subjectId: user.id, email: normalised });
      throw unauthenticated('This account is disabled; contact support.');
    }
    // Only the account's own sign-in clears the address's failure count: a decoy's password (which
    // its registrant knows) must not reset the lockout that guards the account's.
    if (user === account) await ctx.limits.loginSucceeded(normalised);
    const { session, ...issued } = await openSession(ctx.em, user, {
      ip: ctx.clientIp,
      totpVerified: user.totpEnabledAt !== null,
      refreshTtlSeconds: ctx.settings.refreshTokenTtlSeconds,
    });
    await audit(ctx.em, AuditAction.LOGIN_SUCCEEDED, { ...meta, actorId: user.id, sessionId: session.id }, { subjectId: user.id, email: normalised });
    return authPayload(ctx, user, session, issued);
  }

  @Directive('@tag(name: "console")')
  @Mutation(() => AuthPayload, {
    description:
      'Trades a refresh token for a new access token and a new refresh token. A refresh token works once: presenting one ' +
      'again ends its session (it was copied), and the new pair must be used from then on.',
  })
  async refreshSession(
    @Arg('refreshToken', () => String, { description: 'The newest refresh token of the session.' }) refreshToken: string,
    @Ctx() ctx: UserContext,
  ): Promise<AuthPayload> {
    const rotation = await rotateRefreshToken(ctx.em, refreshToken, ctx.settings.refreshTokenTtlSeconds);
    if (rotation.outcome === 'reused') {
      await handleRefreshTokenReuse(ctx.em, ctx.revocations, rotation.session, { ...metaOf(ctx), sessionId: rotation.session.id });
    }
    if (rotation.outcome !== 'rotated') throw unauthenticated('The refresh token is not valid or has expired; sign in again.');
    return authPayload(ctx, rotation.user, rotation.session, rotation.issued);
  }

  // Open to enrolment-only tokens too: an administrator may sign out before enrolling.
  @Directive('@tag(name: "console")')
  @Mutation(() => Boolean, { description: 'Ends this session: its access and refresh tokens stop working at once.' })
  async logout(@Ctx() ctx: UserContext): Promise<boolean> {
    const user = requireSignedIn(ctx);
    await revokeSessions(ctx.em, ctx.revocations, user.id, { only: user.sessionId, reason: 'logout' });
    await audit(ctx.em, AuditAction.LOGGED_OUT, metaOf(ctx), { subjectId: user.id });
    return true;
  }

  @Mutation(() => Int, { description: 'Ends every session of yours, this one included; returns how many were open.' })
  async logoutEverywhere(@Ctx() ctx: UserContext): Promise<number> {
    const user = requireSignedIn(ctx);
    const count = await revokeSessions(ctx.em, ctx.revocations, user.id, { reason: 'logout-everywhere' });
    await audit(ctx.em, AuditAction.LOGGED_OUT_EVERYWHERE, metaOf(ctx), { subjectId: user.id, detail: { sessionsRevoked: count } });
    return count;
  }

  @Authorized()
  @Mutation(() => Int, { description: 'Changes your password and ends your other sessions; returns how many were ended.' })
  async changePassword(
    @Arg('currentPassword', () => String, { description: 'Your password now.' }) currentPassword: string,
    @Arg('newPassword', () => String, { description: '12 to 256 characters, not a well-known password.' }) newPassword: string,
    @Ctx() ctx: UserContext,
  ): Promise<number> {
    const caller = requireUser(ctx);
    const meta = metaOf(ctx);
    const user = await ctx.em.findOneOrFail(UserRecord, { id: caller.id });
    // A stolen access token must not turn into a password guesser: the sign-in limits apply.
    const wait = await ctx.limits.loginRetryAfter(user.email, ctx.clientIp);
    if (wait > 0) throw rateLimited(wait, `Too many wrong passwords; try again in ${wait} s.`);
    if (!(await passwordMatches(user, currentPassword))) {
      await ctx.limits.loginFailed(user.email, ctx.clientIp);
      await audit(ctx.em, AuditAction.PASSWORD_CHANGE_REFUSED, meta, { subjectId: user.id, email: user.email });
      throw badInput('currentPassword', 'The current password is not correct.');
    }
    await changePassword(ctx.em, user, newPassword);
    await ctx.em.flush();
    const count = await revokeSessions(ctx.em, ctx.revocations, user.id, { except: caller.sessionId, reason: 'password-changed' });
    await audit(ctx.em, AuditAction.PASSWORD_CHANGED, meta, { subjectId: user.id, email: user.email, detail: { sessionsRevoked: count } });
    return count;
  }

  // No sign-in needed: holding the token proves the mailbox. It answers no more than true.
  @Mutation(() => Boolean, { description: 'Confirms an email address with the token from the link that was emailed to it.' })
  async verifyEmail(@Arg('token', () => String, { description: 'The token from the verification link.' }) token: string, @Ctx() ctx: UserContext): Promise<boolean> {
    await verifyEmail(ctx.em, token, metaOf(ctx));
    return true;
  }
}
