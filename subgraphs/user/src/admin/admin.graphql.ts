import { Arg, Authorized, Ctx, Directive, Field, ID, InputType, Int, Mutation, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO, GraphQLJSONObject } from 'graphql-scalars';
import { requireUser, type Role } from '@analytica/auth';
import { PageInfo } from '@analytica/subgraph';
import { pageOf } from '@analytica/subgraph/pages';
import { changeUserRole, findUserForAdmin, revokeUserSessions, searchUsers, setUserDisabled } from './admin.js';
import { audit, readAuditLog } from '../audit/audit.js';
import { AuditAction, type AuditRecord } from '../audit/audit.entity.js';
import type { UserRecord } from '../users/user.entity.js';
import { metaOf, type UserContext } from '../context.js';
import { RoleEnum, User } from '../users/users.graphql.js';

registerEnumType(AuditAction, {
  name: 'AuditAction',
  description: 'What an audit log entry records.',
  valuesConfig: {
    USER_REGISTERED: { description: 'A new account was created with register.' },
    REGISTRATION_RATE_LIMITED: { description: 'A register call was refused because the caller registered too many accounts too fast.' },
    REGISTRATION_EXISTING_EMAIL: { description: 'Someone tried to register an address that already has an account (answered as if it were new).' },
    EMAIL_VERIFIED: { description: 'An address was confirmed with its verification link.' },
    LOGIN_SUCCEEDED: { description: 'A sign-in succeeded.' },
    LOGIN_FAILED: { description: 'A sign-in failed: wrong password, unknown address or wrong two-factor code.' },
    LOGIN_RATE_LIMITED: { description: 'A sign-in was refused while the account or caller was locked out.' },
    ACCOUNT_LOCKED: { description: 'Too many wrong passwords locked the account for a while.' },
    LOGIN_REFUSED_DISABLED: { description: 'A sign-in with the right password was refused because the account is disabled.' },
    REFRESH_TOKEN_REUSED: { description: 'A refresh token was presented a second time (it was copied), so its whole session was ended.' },
    LOGGED_OUT: { description: 'A session was ended with logout.' },
    LOGGED_OUT_EVERYWHERE: { description: 'Every session of the user was ended with logoutEverywhere.' },
    PASSWORD_CHANGED: { description: 'The password was changed with changePassword (the other sessions ended).' },
    PASSWORD_CHANGE_REFUSED: { description: 'changePassword was refused: wrong current password or a weak new one.' },
    PASSWORD_RESET_REQUESTED: { description: 'A password reset link was asked for (also logged for addresses without an account).' },
    PASSWORD_RESET_RATE_LIMITED: { description: 'A password reset request was refused: too many for the address or the caller.' },
    PASSWORD_RESET: { description: 'The password was set with a reset token; every session of the account ended.' },
    EMAIL_CHANGE_REQUESTED: { description: 'A change of sign-in address was asked for; a link went to the new address.' },
    EMAIL_CHANGE_REFUSED: { description: 'changeEmail was refused (wrong password, or the address is taken or invalid).' },
    EMAIL_CHANGED: { description: 'The sign-in address was changed with the link sent to the new address.' },
    TOTP_ENABLED: { description: 'Two-factor authentication was turned on.' },
    TOTP_DISABLED: { description: 'Two-factor authentication was turned off.' },
    ROLE_CHANGED: { description: 'An administrator gave the user another role.' },
    USER_DISABLED: { description: 'An administrator disabled the account.' },
    USER_ENABLED: { description: 'An administrator enabled the account again.' },
    SESSIONS_REVOKED: { description: 'An administrator ended every session of the user.' },
    USERS_LISTED: { description: 'An administrator listed or searched users.' },
    USER_VIEWED: { description: "An administrator read one user's details." },
    AUDIT_LOG_READ: { description: 'An administrator read the audit log.' },
    PARTNERS_LISTED: { description: 'An administrator listed the partners.' },
    PARTNER_CREATED: { description: 'An administrator added a partner.' },
    PARTNER_SUSPENDED: { description: 'An administrator suspended a partner.' },
    PARTNER_REINSTATED: { description: 'An administrator reinstated a suspended partner.' },
    PARTNER_DELETED: { description: 'An administrator deleted a partner.' },
    PARTNER_APP_CREATED: { description: 'An administrator added an app to a partner.' },
    PARTNER_APP_SECRET_ROTATED: { description: 'An administrator gave a partner app a new client secret.' },
    PARTNER_APP_DELETED: { description: 'An administrator deleted a partner app.' },
    PARTNER_CONSENT_GRANTED: { description: "A user let a partner's apps read their data." },
    PARTNER_CONSENT_REVOKED: { description: 'A user ended a consent they gave a partner.' },
    PARTNER_CONSENT_TOKEN_ISSUED: { description: 'A partner app got a token to act for a consenting user.' },
    PARTNER_CLIENT_AUTH_FAILED: { description: 'A partner app presented a wrong client id or secret at POST /oauth/token.' },
  },
});

@Directive('@tag(name: "console")')
@ObjectType('UserEdge', { description: 'One user in a page, with the cursor that points at it.' })
class UserEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` to read the users that follow this one.' }) cursor!: string;
  @Field(() => User, { description: 'The user.' }) node!: UserRecord;
}

@Directive('@tag(name: "console")')
@ObjectType('UserConnection', { description: 'A page of users, newest account first.' })
class UserConnection {
  @Field(() => [UserEdge], { description: 'The users of this page, each with its cursor.' }) edges!: UserEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'How many users match the search, across all pages.' }) totalCount!: number;
}

@Directive('@tag(name: "console")')
@ObjectType('AuditEntry', { description: 'One security-relevant event. The log is append-only: entries are never changed or removed.' })
class AuditEntry {
  @Field(() => ID, { description: 'Id of the entry.' }) id!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When it happened (UTC, ISO 8601).' }) at!: Date;
  @Field(() => AuditAction, { description: 'What happened.' }) action!: AuditAction;
  @Field(() => ID, { nullable: true, description: 'Who did it; null for anonymous requests such as a failed sign-in.' }) actorId!: string | null;
  @Field(() => ID, { nullable: true, description: 'The account it concerns.' }) subjectId!: string | null;
  @Field(() => String, { nullable: true, description: 'The email it concerns (also for sign-ins to accounts that do not exist).' })
  email!: string | null;
  @Field(() => String, { description: "The caller's IP address as the gateway saw it; null when unknown.", nullable: true }) ip!: string | null;
  @Field(() => ID, { description: 'The session the action was taken in; null outside a session (e.g. a failed sign-in).', nullable: true }) sessionId!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'More facts about the action, depending on it (e.g. the old and new role); an empty object when there are none.' })
  detail!: Record<string, unknown>;
}

@Directive('@tag(name: "console")')
@ObjectType('AuditEntryEdge', { description: 'One audit log entry in a page, with the cursor that points at it.' })
class AuditEntryEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` to read the entries that follow this one.' }) cursor!: string;
  @Field(() => AuditEntry, { description: 'The entry.' }) node!: AuditRecord;
}

@Directive('@tag(name: "console")')
@ObjectType('AuditEntryConnection', { description: 'A page of the audit log, newest first.' })
class AuditEntryConnection {
  @Field(() => [AuditEntryEdge], { description: 'The entries of this page, each with its cursor.' }) edges!: AuditEntryEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'How many entries match the filter, across all pages.' }) totalCount!: number;
}

@InputType('AuditLogFilter', { description: 'Which audit log entries to read; every condition given must hold.' })
class AuditLogFilter {
  @Field(() => ID, { nullable: true, description: 'Entries where this user acted or was acted on.' }) userId?: string | null;
  @Field(() => String, { description: 'Entries about this email address (exact, ignoring case), also for sign-ins to addresses without an account.', nullable: true }) email?:
    string | null;
  @Field(() => [AuditAction], { description: 'Only entries with one of these actions.', nullable: true }) actions?: AuditAction[] | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'At or after this time.' }) from?: Date | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Before this time.' }) to?: Date | null;
}

/** Everything here needs the ADMIN role, which the user service only grants with two-factor sign-in; every call is audited. */
@Resolver(() => User)
export class AdminResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => UserConnection, { description: 'Administrators: users, newest first, optionally searched by email or name.' })
  async users(
    @Ctx() ctx: UserContext,
    @Arg('query', () => String, { nullable: true, description: 'Part of the email or display name.' }) query?: string | null,
    @Arg('role', () => RoleEnum, { description: 'Only users with this role.', nullable: true }) role?: Role | null,
    @Arg('disabled', () => Boolean, { description: 'Only disabled (true) or only enabled (false) users.', nullable: true }) disabled?: boolean | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20, description: '1 to 100.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after?: string | null,
  ): Promise<UserConnection> {
    requireUser(ctx);
    const page = await searchUsers(ctx.em, { query, role, disabled }, first ?? 20, after);
    await audit(ctx.em, AuditAction.USERS_LISTED, metaOf(ctx), { detail: { query: query ?? null, role: role ?? null, disabled: disabled ?? null } });
    return page;
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => User, { nullable: true, description: 'Administrators: one user by id.' })
  async user(@Arg('id', () => ID, { description: "The user's id." }) id: string, @Ctx() ctx: UserContext): Promise<UserRecord> {
    requireUser(ctx);
    const user = await findUserForAdmin(ctx.em, id);
    await audit(ctx.em, AuditAction.USER_VIEWED, metaOf(ctx), { subjectId: user.id, email: user.email });
    return user;
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => AuditEntryConnection, { description: 'Administrators: the audit log, newest first, filtered by user, email, action and time.' })
  async auditLog(
    @Ctx() ctx: UserContext,
    @Arg('filter', () => AuditLogFilter, { description: 'Which entries to read.', nullable: true }) filter?: AuditLogFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: '1 to 200.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after?: string | null,
  ): Promise<AuditEntryConnection> {
    requireUser(ctx);
    // Recorded first, so that the read shows up in what it reads.
    await audit(ctx.em, AuditAction.AUDIT_LOG_READ, metaOf(ctx), {
      detail: { userId: filter?.userId ?? null, email: filter?.email ?? null, actions: filter?.actions ?? null },
    });
    const { entries, hasNextPage, totalCount } = await readAuditLog(ctx.em, filter ?? {}, first ?? 50, after);
    // The id column is a bigint, which MikroORM hands over as a JS bigint: GraphQL's ID and String serialise only strings and numbers.
    const edges = entries.map((node) => ({ cursor: String(node.id), node: { ...node, id: String(node.id) } }));
    return { ...pageOf(edges, hasNextPage), totalCount };
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => User, { description: 'Administrators: disables an account (ending its sessions at once) or enables it again.' })
  setUserDisabled(
    @Arg('id', () => ID, { description: 'The user.' }) id: string,
    @Arg('disabled', () => Boolean, { description: 'true to disable, false to enable.' }) disabled: boolean,
    @Ctx() ctx: UserContext,
  ): Promise<UserRecord> {
    return setUserDisabled(ctx.em, ctx.revocations, requireUser(ctx), id, disabled, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => User, { description: 'Administrators: gives a user another role and ends their sessions. A new admin enrols two-factor at next sign-in.' })
  changeUserRole(
    @Arg('id', () => ID, { description: 'The user.' }) id: string,
    @Arg('role', () => RoleEnum, { description: 'The new role.' }) role: Role,
    @Ctx() ctx: UserContext,
  ): Promise<UserRecord> {
    return changeUserRole(ctx.em, ctx.revocations, requireUser(ctx), id, role, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Int, { description: 'Administrators: ends every session of a user; returns how many were open.' })
  revokeUserSessions(@Arg('id', () => ID, { description: 'The user.' }) id: string, @Ctx() ctx: UserContext): Promise<number> {
    requireUser(ctx);
    return revokeUserSessions(ctx.em, ctx.revocations, id, metaOf(ctx));
  }
}
