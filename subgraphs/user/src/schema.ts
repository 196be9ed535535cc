import { Arg, Authorized, Ctx, Directive, Field, ID, InputType, Mutation, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser, type Role } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { buildFederatedSchema, type SubgraphContext } from '@analytica/subgraph';
import { logIn, registerUser, UserRecord, SessionRecord } from './users.js';

export interface UserContext extends SubgraphContext {
  em: EntityManager;
  issueAccessToken(user: UserRecord, session: SessionRecord): { accessToken: string; expiresAt: Date };
}

enum RoleEnum {
  USER = 'USER',
  ADMIN = 'ADMIN',
}
registerEnumType(RoleEnum, { name: 'Role', description: 'What a signed-in person may do.' });

@Directive('@key(fields: "id")')
@ObjectType('User', { description: 'A person using Analytica. Owned by the user service; other services add fields to it.' })
class User {
  @Field(() => ID) id!: string;
  @Field(() => String) email!: string;
  @Field(() => String) displayName!: string;
  @Field(() => RoleEnum) role!: Role;
  @Field(() => String, { description: 'ISO 4217 code that reports convert into.' }) homeCurrency!: string;
  @Field(() => GraphQLDateTimeISO) createdAt!: Date;
}

@ObjectType('AuthPayload')
class AuthPayload {
  @Field(() => String, { description: 'Send as "Authorization: Bearer <accessToken>".' }) accessToken!: string;
  @Field(() => GraphQLDateTimeISO) expiresAt!: Date;
  @Field(() => User) user!: User;
}

@InputType('RegisterInput')
class RegisterInput {
  @Field(() => String) email!: string;
  @Field(() => String, { description: 'At least 12 characters.' }) password!: string;
  @Field(() => String) displayName!: string;
  @Field(() => String, { nullable: true, description: 'ISO 4217 code; EUR when omitted.' }) homeCurrency?: string;
}

@InputType('UpdateProfileInput')
class UpdateProfileInput {
  @Field(() => String, { nullable: true }) displayName?: string;
  @Field(() => String, { nullable: true }) homeCurrency?: string;
}

@Resolver(() => User)
class UserResolver {
  @Authorized()
  @Query(() => User, { nullable: true, description: 'The signed-in user (null only when the user service cannot answer).' })
  async me(@Ctx() ctx: UserContext): Promise<UserRecord> {
    const { id } = requireUser(ctx);
    const user = await ctx.em.findOne(UserRecord, { id });
    if (!user) throw notFound('User', id);
    return user;
  }

  @Mutation(() => AuthPayload, { description: 'Creates an account and signs it in.' })
  async register(@Arg('input', () => RegisterInput) input: RegisterInput, @Ctx() ctx: UserContext): Promise<AuthPayload> {
    await registerUser(ctx.em, input);
    const { user, session } = await logIn(ctx.em, input.email, input.password);
    return { ...ctx.issueAccessToken(user, session), user };
  }

  @Mutation(() => AuthPayload, { description: 'Signs in with email and password.' })
  async login(
    @Arg('email', () => String) email: string,
    @Arg('password', () => String) password: string,
    @Ctx() ctx: UserContext,
  ): Promise<AuthPayload> {
    const { user, session } = await logIn(ctx.em, email, password);
    return { ...ctx.issueAccessToken(user, session), user };
  }

  @Authorized()
  @Mutation(() => User)
  async updateProfile(@Arg('input', () => UpdateProfileInput) input: UpdateProfileInput, @Ctx() ctx: UserContext): Promise<UserRecord> {
    const { id } = requireUser(ctx);
    return ctx.em.transactional(async (tx) => {
      const user = await tx.findOneOrFail(UserRecord, { id });
      if (input.displayName !== undefined) {
        const name = input.displayName.trim();
        if (name.length < 1 || name.length > 80) throw badInput('input.displayName', 'Give a display name of 1 to 80 characters.');
        user.displayName = name;
      }
      if (input.homeCurrency !== undefined) {
        if (!/^[A-Z]{3}$/.test(input.homeCurrency)) throw badInput('input.homeCurrency', 'Use an ISO 4217 currency code such as EUR.');
        user.homeCurrency = input.homeCurrency;
      }
      return user;
    });
  }
}

export function buildUserSchema() {
  return buildFederatedSchema({
    resolvers: [UserResolver],
    referenceResolvers: {
      User: {
        // The gateway asks for users by id on behalf of a caller: only that caller or an admin gets one.
        async __resolveReference(reference: { id: string }, ctx: UserContext) {
          assertOwnerOrAdmin(ctx, reference.id);
          return ctx.em.findOne(UserRecord, { id: reference.id });
        },
      },
    },
  });
}
