import { Arg, Authorized, Ctx, Directive, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { badInput, isRequestId } from '@analytica/errors';
import type { UserContext } from '../context.js';
import type { SpanAttributeView, TraceReportView, TraceSpanView } from './traces.js';

@Directive('@tag(name: "console")')
@ObjectType('SpanAttribute', { description: 'One attribute of a span (an OpenTelemetry attribute, as Zipkin keeps it: a tag).' })
class SpanAttribute {
  @Field(() => String, { description: 'Its name, e.g. http.request.method, messaging.destination.name, analytica.request_id.' }) key!: string;
  @Field(() => String, { description: 'Its value, as text.' }) value!: string;
}

@Directive('@tag(name: "console")')
@ObjectType('TraceSpan', { description: 'One span of a trace: a unit of work in one service (a request served, a subgraph fetch, an event sent or processed).' })
class TraceSpan {
  @Field(() => String, { description: 'The span id (16 hex digits).' }) spanId!: string;
  @Field(() => String, { nullable: true, description: "The id of the span it is part of; null for the trace's root (the gateway's request)." }) parentSpanId!: string | null;
  @Field(() => String, { description: 'The service that recorded it, e.g. gateway, payment, payments-worker.' }) service!: string;
  @Field(() => String, { description: 'What it did, e.g. post, gateway.fetch, outbox relay, send payments.requested.v1.' }) name!: string;
  @Field(() => String, { nullable: true, description: 'SERVER, CLIENT, PRODUCER or CONSUMER; null for work inside one service.' }) kind!: string | null;
  @Field(() => GraphQLDateTimeISO, { description: 'When it started (UTC, ISO 8601).' }) startedAt!: Date;
  @Field(() => Int, { description: 'How long it took, in microseconds.' }) durationMicros!: number;
  @Field(() => [SpanAttribute], { description: 'Its attributes, by name.' }) attributes!: SpanAttributeView[];
  @Field(() => Boolean, { description: 'Whether it ended in an error.' }) error!: boolean;
}

@Directive('@tag(name: "console")')
@ObjectType('TraceReport', { description: "One request's trace across the gateway, subgraphs, Kafka and workers, or why it cannot be read." })
class TraceReport {
  @Field(() => Boolean, { description: 'false when the trace store (Zipkin, ZIPKIN_URL) is not configured or did not answer; `spans` is then empty.' })
  available!: boolean;
  @Field(() => String, { nullable: true, description: 'Why the trace is not available; null when it is.' }) reason!: string | null;
  @Field(() => String, { nullable: true, description: 'The trace id (32 hex digits); null when no trace holds the request id (yet: spans arrive a second or so after the work).' })
  traceId!: string | null;
  @Field(() => [TraceSpan], { description: 'Its spans, earliest first.' }) spans!: TraceSpanView[];
}

@Resolver()
export class TracesResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => TraceReport, { description: "Administrators: one request's trace, found by its request id (the x-request-id every answer and log line carries), from Zipkin." })
  requestTrace(
    @Arg('requestId', () => String, { description: 'The request id: letters, digits, _ and -, at most 64 (as the gateway assigns or accepts them).' }) requestId: string,
    @Ctx() ctx: UserContext,
  ): Promise<TraceReportView> {
    if (!isRequestId(requestId)) throw badInput('requestId', 'requestId must be a request id as the gateway gives them: 1 to 64 letters, digits, _ or -.');
    return ctx.traces.byRequestId(requestId);
  }
}
