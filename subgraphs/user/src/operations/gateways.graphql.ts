import { Authorized, Ctx, Directive, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import type { UserContext } from '../context.js';
import type { GatewayInstanceView } from './registry-reads.js';

@Directive('@tag(name: "console")')
@ObjectType('GatewayInstance', { description: 'A gateway that polls the schema registry for its supergraph, and the version it serves.' })
class GatewayInstance {
  @Field(() => String, { description: "The gateway's name (GATEWAY_INSTANCE_ID; by default host:port, a pod's name in Kubernetes)." }) instanceId!: string;
  @Field(() => Int, { nullable: true, description: "The registry's schema version it serves; null while it serves its fallback file." }) schemaVersion!: number | null;
  @Field(() => GraphQLDateTimeISO, { description: 'Its last poll (every SUPERGRAPH_POLL_SECONDS while it runs).' }) lastSeenAt!: Date;
}

@Resolver()
export class GatewayInstancesResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [GatewayInstance], {
    description:
      'Administrators: the gateways heard from in the last day, most recent first, with the schema version each serves (from the registry). Empty when the registry cannot be read (logged).',
  })
  async gatewayInstances(@Ctx() ctx: UserContext): Promise<GatewayInstanceView[]> {
    const read = await ctx.monitoring.registry.gateways();
    if (!read.available) {
      // The field's type has no place for the reason: it goes to the log, and the list is empty.
      ctx.log.warn({ reason: read.reason }, 'gateway instances not available');
      return [];
    }
    return read.value;
  }
}
