import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser, type Role } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import { assertCurrency } from '@analytica/money';
import type { UserContext } from '../context.js';
import type { IssuedRefreshToken } from '../sessions/sessions.js';
import type { SessionRecord } from '../sessions/session.entity.js';
import { UserRecord } from './user.entity.js';

export enum RoleEnum {
  USER = 'USER',
  ADMIN = 'ADMIN',
}
registerEnumType(RoleEnum, {
  name: 'Role',
  description: 'What a signed-in person may do.',
  valuesConfig: {
    USER: { description: 'A person managing their own money.' },
    ADMIN: { description: 'An administrator: may also run the admin operations (users, audit log, moderation, partners); must use two-factor authentication.' },
  },
});

@Directive('@key(fields: "id")')
@Directive('@tag(name: "console")')
@ObjectType('User', { description: 'A person using Analytica. Owned by the user service; other services add fields to it.' })
export class User {
  // Tagged `consent` (like Query.me): the budget-with-consent contract shows a partner app, acting
  // for a consenting user, who that user is and (in budget) their transactions, and nothing else.
  @Directive('@tag(name: "consent")')
  @Field(() => ID, { description: 'Id of the user: stable, and the same in every service.' })
  id!: string;
  @Field(() => String, { description: 'The address the user signs in with. Only the user and administrators see it.' }) email!: string;
  @Field(() => String, { description: 'The name shown in the app.' }) displayName!: string;
  @Field(() => RoleEnum, { description: 'USER or ADMIN.' }) role!: Role;
  @Field(() => String, { description: 'ISO 4217 code that reports convert into.' }) homeCurrency!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the account was registered (UTC, ISO 8601).' }) createdAt!: Date;
}

@Directive('@tag(name: "console")')
@ObjectType('AuthPayload', { description: 'A signed-in session: a short-lived access token and the refresh token that renews it.' })
export class AuthPayload {
  @Field(() => String, { description: 'Send as "Authorization: Bearer <accessToken>". Valid for 15 minutes.' }) accessToken!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When accessToken stops working (UTC, ISO 8601): refresh before then.' }) expiresAt!: Date;
  @Field(() => String, {
    description: 'Opaque; trade it for a new pair with refreshSession before expiresAt. Each one works once: keep only the newest.',
  })
  refreshToken!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When refreshToken stops working (UTC, ISO 8601); after it, sign in again.' }) refreshExpiresAt!: Date;
  @Field(() => Boolean, {
    description: 'True for an administrator without two-factor authentication: the token only enrols an authenticator app.',
  })
  twoFactorEnrolmentRequired!: boolean;
  @Field(() => User, { description: 'The signed-in user.' }) user!: UserRecord;
}

export function authPayload(ctx: UserContext, user: UserRecord, session: SessionRecord, issued: IssuedRefreshToken): AuthPayload {
  const { accessToken, expiresAt, enrolmentOnly } = ctx.issueAccessToken(user, session);
  return { accessToken, expiresAt, ...issued, twoFactorEnrolmentRequired: enrolmentOnly, user };
}

@InputType('UpdateProfileInput', { description: 'What to change in your profile (updateProfile); fields left out keep their value.' })
class UpdateProfileInput {
  @Field(() => String, { description: '1 to 80 characters.', nullable: true }) displayName?: string;
  @Field(() => String, { description: 'ISO 4217 code that reports convert into, e.g. EUR.', nullable: true }) homeCurrency?: string;
}

@Resolver(() => User)
export class UserResolver {
  @Authorized()
  @Directive('@tag(name: "consent")')
  @Query(() => User, { nullable: true, description: 'The signed-in user (null only when the user service cannot answer).' })
  async me(@Ctx() ctx: UserContext): Promise<UserRecord> {
    const { id } = requireUser(ctx);
    const user = await ctx.em.findOne(UserRecord, { id });
    if (!user) throw notFound('User', id);
    return user;
  }

  @Authorized()
  @Mutation(() => User, { description: 'Changes your display name or home currency; answers your user.' })
  async updateProfile(
    @Arg('input', () => UpdateProfileInput, { description: 'What to change; fields left out keep their value.' }) input: UpdateProfileInput,
    @Ctx() ctx: UserContext,
  ): Promise<UserRecord> {
    const { id } = requireUser(ctx);
    return ctx.em.transactional(async (tx) => {
      const user = await tx.findOneOrFail(UserRecord, { id });
      if (input.displayName !== undefined) {
        const name = input.displayName.trim();
        if (name.length < 1 || name.length > 80) throw badInput('input.displayName', 'Give a display name of 1 to 80 characters.');
        user.displayName = name;
      }
      if (input.homeCurrency !== undefined) {
        // A known ISO 4217 code (packages/money's list): reports convert into it later.
        user.homeCurrency = assertCurrency(input.homeCurrency, 'input.homeCurrency');
      }
      return user;
    });
  }

  // User objects only ever come from checked paths (me, _entities, admin queries); these read the row.
  @FieldResolver(() => Boolean, { description: 'Whether the email address was confirmed with the link sent to it.' })
  emailVerified(@Root() user: UserRecord): boolean {
    return user.emailVerifiedAt !== null;
  }

  @FieldResolver(() => Boolean, { description: 'Whether sign-in asks for a code from an authenticator app.' })
  twoFactorEnabled(@Root() user: UserRecord): boolean {
    return user.totpEnabledAt !== null;
  }

  @FieldResolver(() => Boolean, { description: 'A disabled account cannot sign in; an administrator can enable it again.' })
  disabled(@Root() user: UserRecord): boolean {
    return user.disabledAt !== null;
  }
}
