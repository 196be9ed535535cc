import { Arg, Authorized, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO, GraphQLJSONObject } from 'graphql-scalars';
import { requireUser, type Role } from '@analytica/auth';
import { PageInfo } from '@analytica/subgraph';
import { changeUserRole, findUserForAdmin, revokeUserSessions, searchUsers, setUserDisabled } from './admin.js';
import { audit, readAuditLog } from '../audit/audit.js';
import { AuditAction, type AuditRecord } from '../audit/audit.entity.js';
import type { UserRecord } from '../users/user.entity.js';
import { metaOf, type UserContext } from '../context.js';
import { RoleEnum, User } from '../users/users.graphql.js';

registerEnumType(AuditAction, { name: 'AuditAction', description: 'What an audit log entry records.' });

@ObjectType('UserEdge')
class UserEdge {
  @Field(() => String) cursor!: string;
  @Field(() => User) node!: UserRecord;
}

@ObjectType('UserConnection', { description: 'A page of users, newest account first.' })
class UserConnection {
  @Field(() => [UserEdge]) edges!: UserEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType('AuditEntry', { description: 'One security-relevant event. The log is append-only: entries are never changed or removed.' })
class AuditEntry {
  @Field(() => ID) id!: string;
  @Field(() => GraphQLDateTimeISO) at!: Date;
  @Field(() => AuditAction) action!: AuditAction;
  @Field(() => ID, { nullable: true, description: 'Who did it; null for anonymous requests such as a failed sign-in.' }) actorId!: string | null;
  @Field(() => ID, { nullable: true, description: 'The account it concerns.' }) subjectId!: string | null;
  @Field(() => String, { nullable: true, description: 'The email it concerns (also for sign-ins to accounts that do not exist).' })
  email!: string | null;
  @Field(() => String, { nullable: true }) ip!: string | null;
  @Field(() => ID, { nullable: true }) sessionId!: string | null;
  @Field(() => GraphQLJSONObject) detail!: Record<string, unknown>;
}

@ObjectType('AuditEntryEdge')
class AuditEntryEdge {
  @Field(() => String) cursor!: string;
  @Field(() => AuditEntry) node!: AuditRecord;
}

@ObjectType('AuditEntryConnection', { description: 'A page of the audit log, newest first.' })
class AuditEntryConnection {
  @Field(() => [AuditEntryEdge]) edges!: AuditEntryEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@InputType('AuditLogFilter')
class AuditLogFilter {
  @Field(() => ID, { nullable: true, description: 'Entries where this user acted or was acted on.' }) userId?: string | null;
  @Field(() => String, { nullable: true }) email?: string | null;
  @Field(() => [AuditAction], { nullable: true }) actions?: AuditAction[] | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'At or after this time.' }) from?: Date | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Before this time.' }) to?: Date | null;
}

/** Everything here needs the ADMIN role, which the user service only grants with two-factor sign-in; every call is audited. */
@Resolver(() => User)
export class AdminResolver {
  @Authorized('ADMIN')
  @Query(() => UserConnection, { description: 'Administrators: users, newest first, optionally searched by email or name.' })
  async users(
    @Ctx() ctx: UserContext,
    @Arg('query', () => String, { nullable: true, description: 'Part of the email or display name.' }) query?: string | null,
    @Arg('role', () => RoleEnum, { nullable: true }) role?: Role | null,
    @Arg('disabled', () => Boolean, { nullable: true }) disabled?: boolean | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20, description: '1 to 100.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after?: string | null,
  ): Promise<UserConnection> {
    requireUser(ctx);
    const page = await searchUsers(ctx.em, { query, role, disabled }, first ?? 20, after);
    await audit(ctx.em, AuditAction.USERS_LISTED, metaOf(ctx), { detail: { query: query ?? null, role: role ?? null, disabled: disabled ?? null } });
    return page;
  }

  @Authorized('ADMIN')
  @Query(() => User, { nullable: true, description: 'Administrators: one user by id.' })
  async user(@Arg('id', () => ID) id: string, @Ctx() ctx: UserContext): Promise<UserRecord> {
    requireUser(ctx);
    const user = await findUserForAdmin(ctx.em, id);
    await audit(ctx.em, AuditAction.USER_VIEWED, metaOf(ctx), { subjectId: user.id, email: user.email });
    return user;
  }

  @Authorized('ADMIN')
  @Query(() => AuditEntryConnection, { description: 'Administrators: the audit log, newest first, filtered by user, email, action and time.' })
  async auditLog(
    @Ctx() ctx: UserContext,
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter?: AuditLogFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: '1 to 200.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after?: string | null,
  ): Promise<AuditEntryConnection> {
    requireUser(ctx);
    // Recorded first, so that the read shows up in what it reads.
    await audit(ctx.em, AuditAction.AUDIT_LOG_READ, metaOf(ctx), {
      detail: { userId: filter?.userId ?? null, email: filter?.email ?? null, actions: filter?.actions ?? null },
    });
    const { entries, hasNextPage } = await readAuditLog(ctx.em, filter ?? {}, first ?? 50, after);
    const edges = entries.map((node) => ({ cursor: node.id, node }));
    return {
      edges,
      pageInfo: { hasNextPage, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Authorized('ADMIN')
  @Mutation(() => User, { description: 'Administrators: disables an account (ending its sessions at once) or enables it again.' })
  setUserDisabled(@Arg('id', () => ID) id: string, @Arg('disabled', () => Boolean) disabled: boolean, @Ctx() ctx: UserContext): Promise<UserRecord> {
    return setUserDisabled(ctx.em, ctx.revocations, requireUser(ctx), id, disabled, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Mutation(() => User, { description: 'Administrators: gives a user another role and ends their sessions. A new admin enrols two-factor at next sign-in.' })
  changeUserRole(@Arg('id', () => ID) id: string, @Arg('role', () => RoleEnum) role: Role, @Ctx() ctx: UserContext): Promise<UserRecord> {
    return changeUserRole(ctx.em, ctx.revocations, requireUser(ctx), id, role, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Mutation(() => Int, { description: 'Administrators: ends every session of a user; returns how many were open.' })
  revokeUserSessions(@Arg('id', () => ID) id: string, @Ctx() ctx: UserContext): Promise<number> {
    requireUser(ctx);
    return revokeUserSessions(ctx.em, ctx.revocations, id, metaOf(ctx));
  }
}
