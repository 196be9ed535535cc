import { Arg, Authorized, Ctx, Directive, Field, Float, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { badInput } from '@analytica/errors';
import type { UserContext } from '../context.js';
import { RegistryRefusal, type UsagePointView } from './registry-reads.js';

@Directive('@tag(name: "console")')
@ObjectType('UsagePoint', { description: "One bucket of one operation's requests from one client, as the gateways reported them to the registry." })
class UsagePoint {
  @Field(() => GraphQLDateTimeISO, { description: 'Start of the bucket (UTC; buckets start at whole multiples of their length).' }) bucketStart!: Date;
  @Field(() => String, { nullable: true, description: 'The operation name; null for anonymous operations (counted together).' }) operationName!: string | null;
  @Field(() => String, { description: 'The client (apollographql-client-name, or the partner app); "unknown" when it gave none.' }) clientName!: string;
  @Field(() => Int, { description: 'Requests in the bucket.' }) requests!: number;
  @Field(() => Int, { description: 'Of those, the ones that answered with errors.' }) errors!: number;
  @Field(() => Float, { nullable: true, description: '95th percentile of the gateway latency in ms, from the per-minute histograms.' }) p95Ms!: number | null;
}

@Directive('@tag(name: "console")')
@ObjectType('UsageReport', { description: 'Usage over time from the registry, or why it cannot be read.' })
class UsageReport {
  @Field(() => Boolean, { description: 'false when the registry is not configured (REGISTRY_URL, REGISTRY_TOKEN) or did not answer; `points` is then empty.' })
  available!: boolean;
  @Field(() => String, { nullable: true, description: 'Why usage is not available; null when it is.' }) reason!: string | null;
  @Field(() => [UsagePoint], { description: 'By bucket, then the busiest operation first.' }) points!: UsagePointView[];
}

const FIELDS: Record<string, string> = { from: 'since', to: 'until', client: 'clientName', bucketMinutes: 'bucketMinutes' };

@Resolver()
export class OperationUsageResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => UsageReport, { description: "Administrators: requests, errors and p95 per operation and client over time, from the schema registry's usage data." })
  async operationUsage(
    @Ctx() ctx: UserContext,
    @Arg('since', () => GraphQLDateTimeISO, { description: 'Start of the range (UTC).' }) since: Date,
    @Arg('until', () => GraphQLDateTimeISO, { nullable: true, description: 'End of the range; now when left out.' }) until?: Date | null,
    @Arg('bucketMinutes', () => Int, { nullable: true, defaultValue: 5, description: 'Length of a bucket in minutes, 1 to 1440; at most 2,000 buckets in the range.' })
    bucketMinutes?: number | null,
    @Arg('clientName', () => String, { nullable: true, description: 'Only this client.' }) clientName?: string | null,
  ): Promise<UsageReport> {
    const minutes = bucketMinutes ?? 5;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw badInput('bucketMinutes', `bucketMinutes is ${minutes}: send a whole number of minutes from 1 to 1440.`);
    const end = until ?? new Date();
    if (since >= end) throw badInput('since', `since (${since.toISOString()}) must be before until (${end.toISOString()}).`);
    try {
      const read = await ctx.monitoring.registry.usage({ since, until, bucketMinutes: minutes, clientName });
      return { available: read.available, reason: read.reason, points: read.value ?? [] };
    } catch (error) {
      // The registry's own checks (too many buckets): the caller's to fix, named by this field's arguments.
      if (error instanceof RegistryRefusal) throw badInput(FIELDS[error.field ?? ''] ?? 'since', error.message.replace(/"from"/g, 'since').replace(/"to"/g, 'until'));
      throw error;
    }
  }
}
