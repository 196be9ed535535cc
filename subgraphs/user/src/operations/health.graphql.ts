import { Authorized, Ctx, Directive, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import type { UserContext } from '../context.js';
import { checkServices, type HealthCheckView, type ServiceHealthView } from './health.js';

@Directive('@tag(name: "console")')
@ObjectType('HealthCheck', { description: 'One dependency a service checks for its /ready (PostgreSQL, Redis, DynamoDB, the supergraph...).' })
class HealthCheck {
  @Field(() => String, { description: 'What is checked, as the service names it, e.g. postgres or redis.' }) name!: string;
  @Field(() => Boolean, { description: 'Whether it answered.' }) ok!: boolean;
  @Field(() => String, { nullable: true, description: 'Why not, as the service says it; null when ok.' }) detail!: string | null;
}

@Directive('@tag(name: "console")')
@ObjectType('ServiceHealth', { description: "One service's /ready, asked just now." })
class ServiceHealth {
  @Field(() => String, { description: 'The service, as OPERATIONS_SERVICES names it.' }) service!: string;
  @Field(() => String, { description: 'Where it was asked (its base URL; /ready is appended).' }) url!: string;
  @Field(() => Boolean, { description: 'Whether it answered /ready with 200: it can serve, every dependency answered.' }) ready!: boolean;
  @Field(() => [HealthCheck], { description: 'Each dependency it checked; empty when it did not answer.' }) checks!: HealthCheckView[];
  @Field(() => GraphQLDateTimeISO, { description: 'When it was asked (UTC, ISO 8601).' }) checkedAt!: Date;
  @Field(() => Int, { nullable: true, description: 'How long its answer took, in milliseconds; null when it did not answer in time.' }) latencyMs!: number | null;
  @Field(() => String, { nullable: true, description: 'Why it is not ready when it did not say so itself (no answer in time, not reachable, stopping); null otherwise.' })
  error!: string | null;
}

@Resolver()
export class HealthResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [ServiceHealth], {
    description: "Administrators: every service's /ready (OPERATIONS_SERVICES), asked now and all at once, each with a short timeout (OPERATIONS_HEALTH_TIMEOUT_MS).",
  })
  serviceHealth(@Ctx() ctx: UserContext): Promise<ServiceHealthView[]> {
    return checkServices(ctx.operations.services, ctx.operations.healthTimeoutMs);
  }
}
