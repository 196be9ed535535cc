import { Arg, Authorized, Ctx, Directive, Field, Mutation, ObjectType, Resolver } from 'type-graphql';
import { requireSignedIn, requireUser } from '@analytica/auth';
import { badInput, forbidden } from '@analytica/errors';
import { audit } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { rateLimited } from '../limits.js';
import { addRefreshToken } from '../sessions/sessions.js';
import { RefreshTokenRecord, SessionRecord } from '../sessions/session.entity.js';
import { beginTotpEnrolment, confirmTotpEnrolment, acceptTotpCode, turnOffTotp } from './totp.js';
import { passwordMatches } from '../users/users.js';
import { UserRecord } from '../users/user.entity.js';
import { AuthPayload, authPayload, User } from '../users/users.graphql.js';
import { metaOf, type UserContext } from '../context.js';

@Directive('@tag(name: "console")')
@ObjectType('TotpEnrolment', { description: 'Add the secret to an authenticator app (scan otpauthUri as a QR code), then confirm with a code.' })
class TotpEnrolment {
  @Field(() => String, { description: 'Base32, for typing into the app by hand.' }) secret!: string;
  @Field(() => String, { description: 'An otpauth:// URI holding the secret: show it as a QR code for the authenticator app to scan.' }) otpauthUri!: string;
}

/**
 * Two-factor authentication with an authenticator app. The two enrolment mutations take no
 * @Authorized(): an administrator's first sign-in gives a token that can do nothing else, and
 * requireSignedIn accepts it where requireUser (and so @Authorized) would refuse it.
 */
@Resolver(() => User)
export class TotpResolver {
  @Directive('@tag(name: "console")')
  @Mutation(() => TotpEnrolment, { description: 'Starts two-factor enrolment with a new secret (replacing one not yet confirmed).' })
  async beginTotpEnrolment(@Ctx() ctx: UserContext): Promise<TotpEnrolment> {
    const caller = requireSignedIn(ctx);
    const user = await ctx.em.findOneOrFail(UserRecord, { id: caller.id });
    return beginTotpEnrolment(ctx.em, user, ctx.settings.totpIssuer);
  }

  @Directive('@tag(name: "console")')
  @Mutation(() => AuthPayload, {
    description:
      'Turns two-factor authentication on with a current code and returns a new token pair for this session; for an ' +
      "administrator it is the first with the ADMIN role's full rights. Earlier refresh tokens of the session stop working.",
  })
  async confirmTotpEnrolment(
    @Arg('code', () => String, { description: "The authenticator app's current six-digit code." }) code: string,
    @Ctx() ctx: UserContext,
  ): Promise<AuthPayload> {
    const caller = requireSignedIn(ctx);
    return ctx.em.transactional(async (tx) => {
      const user = await tx.findOneOrFail(UserRecord, { id: caller.id });
      await confirmTotpEnrolment(tx, user, code);
      const session = await tx.findOneOrFail(SessionRecord, { id: caller.sessionId });
      session.totpVerified = true;
      // Expired rather than rotated: an old one coming back is a stale client, not a stolen token.
      await tx.nativeUpdate(RefreshTokenRecord, { sessionId: session.id, rotatedAt: null }, { expiresAt: new Date() });
      const issued = addRefreshToken(tx, session, ctx.settings.refreshTokenTtlSeconds);
      await tx.flush();
      await audit(tx, AuditAction.TOTP_ENABLED, metaOf(ctx), { subjectId: user.id, email: user.email });
      return authPayload(ctx, user, session, issued);
    });
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Turns two-factor authentication off (not allowed for administrators).' })
  async disableTotp(
    @Arg('password', () => String, { description: 'Your password.' }) password: string,
    @Arg('code', () => String, { description: "The authenticator app's current six-digit code." }) code: string,
    @Ctx() ctx: UserContext,
  ): Promise<boolean> {
    const caller = requireUser(ctx);
    if (caller.role === 'ADMIN') throw forbidden('Administrators must keep two-factor authentication on.');
    const user = await ctx.em.findOneOrFail(UserRecord, { id: caller.id });
    if (!user.totpEnabledAt) return false;
    // The sign-in limits apply: a stolen access token must not become a password or code guesser.
    const wait = await ctx.limits.loginRetryAfter(user.email, ctx.clientIp);
    if (wait > 0) throw rateLimited(wait, `Too many wrong attempts; try again in ${wait} s.`);
    const passwordOk = await passwordMatches(user, password);
    if (!passwordOk || !(await acceptTotpCode(ctx.em, user, code))) {
      await ctx.limits.loginFailed(user.email, ctx.clientIp);
      throw passwordOk ? badInput('code', 'The code is not correct; enter the current 6-digit code.') : badInput('password', 'The password is not correct.');
    }
    await turnOffTotp(ctx.em, user);
    await audit(ctx.em, AuditAction.TOTP_DISABLED, metaOf(ctx), { subjectId: user.id, email: user.email });
    return true;
  }
}
