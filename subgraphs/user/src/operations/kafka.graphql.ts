import { Authorized, Ctx, Directive, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { UserContext } from '../context.js';
import type { ConsumerGroupLagView, DeadLetterTopicView } from './kafka.js';

@Directive('@tag(name: "console")')
@ObjectType('ConsumerGroupLag', { description: 'How far one consumer group is behind on one topic it reads.' })
class ConsumerGroupLag {
  @Field(() => String, { description: "The consumer group, e.g. insight or payments-worker (without the deployment's topic prefix)." }) groupId!: string;
  @Field(() => String, { description: 'The topic, e.g. transactions.recorded.v1 or one of its retry topics.' }) topic!: string;
  @Field(() => Int, { description: "Messages on the topic after the group's committed offsets, summed over partitions (0: caught up)." }) lag!: number;
  @Field(() => Int, { description: 'How many partitions the topic has.' }) partitions!: number;
}

@Directive('@tag(name: "console")')
@ObjectType('ConsumerGroupsReport', { description: 'Consumer lag per group and topic from Kafka, or why it cannot be read.' })
class ConsumerGroupsReport {
  @Field(() => Boolean, { description: 'false when there is no Kafka (npm start runs events on PostgreSQL) or it did not answer; `groups` is then empty.' })
  available!: boolean;
  @Field(() => String, { nullable: true, description: 'Why the lag is not available; null when it is.' }) reason!: string | null;
  @Field(() => [ConsumerGroupLag], { description: 'One row per group and topic, by group then topic.' }) groups!: ConsumerGroupLagView[];
}

@Directive('@tag(name: "console")')
@ObjectType('DeadLetterTopic', { description: 'A dead-letter topic (`<topic>.dlq`): messages no consumer could apply.' })
class DeadLetterTopic {
  @Field(() => String, { description: 'The topic, e.g. payments.requested.v1.dlq.' }) topic!: string;
  @Field(() => Int, { description: "Messages it holds now (over its partitions, within Kafka's retention)." }) messages!: number;
}

@Directive('@tag(name: "console")')
@ObjectType('DeadLetterReport', { description: 'Message counts of the dead-letter topics, or why they cannot be read.' })
class DeadLetterReport {
  @Field(() => Boolean, { description: 'false when there is no Kafka (npm start) or it did not answer; `topics` is then empty.' }) available!: boolean;
  @Field(() => String, { nullable: true, description: 'Why the counts are not available; null when they are.' }) reason!: string | null;
  @Field(() => [DeadLetterTopic], { description: "Every dead-letter topic, by name. Browse and replay payments' with paymentDeadLetters." }) topics!: DeadLetterTopicView[];
}

@Resolver()
export class KafkaOperationsResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => ConsumerGroupsReport, { description: "Administrators: each consumer group's lag per topic, from Kafka's admin API." })
  async consumerGroups(@Ctx() ctx: UserContext): Promise<ConsumerGroupsReport> {
    const read = await ctx.monitoring.kafka.snapshot();
    return { available: read.available, reason: read.reason, groups: read.value?.groups ?? [] };
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => DeadLetterReport, { description: 'Administrators: how many messages each dead-letter topic (`*.dlq`) holds.' })
  async deadLetterTopics(@Ctx() ctx: UserContext): Promise<DeadLetterReport> {
    const read = await ctx.monitoring.kafka.snapshot();
    return { available: read.available, reason: read.reason, topics: read.value?.deadLetters ?? [] };
  }
}
