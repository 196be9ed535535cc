import { Authorized, Ctx, Directive, Field, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import type { UserContext } from '../context.js';
import type { AlertState, AlertView, AlertsView } from './alerts.js';

const AlertStateEnum = { PENDING: 'PENDING', FIRING: 'FIRING' } as const satisfies Record<AlertState, AlertState>;
registerEnumType(AlertStateEnum, {
  name: 'AlertState',
  description: "Where an alert rule stands in Prometheus' evaluation.",
  valuesConfig: {
    PENDING: { description: "The rule's condition holds, but not yet for as long as the rule requires (its `for`)." },
    FIRING: { description: 'The condition has held for as long as the rule requires: the alert is on.' },
  },
});

@Directive('@tag(name: "console")')
@ObjectType('Alert', { description: 'One alert of the rules in infra/prometheus/alerts.yml that is pending or firing now.' })
class Alert {
  @Field(() => String, { description: 'The rule that raised it, e.g. ServiceDown, HighErrorRate, ConsumerLagHigh.' }) name!: string;
  @Field(() => AlertStateEnum, { description: 'PENDING (condition holds, waiting out its duration) or FIRING.' }) state!: AlertState;
  @Field(() => String, { nullable: true, description: "The rule's severity label (critical, warning); null when it has none." }) severity!: string | null;
  @Field(() => String, { nullable: true, description: 'The service it concerns (its `service` label); null for alerts about no one service (a consumer group, a topic).' })
  service!: string | null;
  @Field(() => String, { nullable: true, description: "The rule's summary, filled in with the alert's labels and value." }) summary!: string | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'When its condition started to hold (UTC, ISO 8601).' }) activeSince!: Date | null;
}

@Directive('@tag(name: "console")')
@ObjectType('AlertsReport', { description: "Prometheus' alerts now, or why they cannot be read." })
class AlertsReport {
  @Field(() => Boolean, { description: 'false when Prometheus is not configured (PROMETHEUS_URL) or did not answer; `alerts` is then empty.' }) available!: boolean;
  @Field(() => String, { nullable: true, description: 'Why the alerts are not available; null when they are.' }) reason!: string | null;
  @Field(() => [Alert], { description: 'Pending and firing alerts, firing first, then the longest active.' }) alerts!: AlertView[];
}

@Resolver()
export class AlertsResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => AlertsReport, { description: "Administrators: the alerts pending or firing now, from Prometheus' HTTP API (stack mode runs Prometheus)." })
  alerts(@Ctx() ctx: UserContext): Promise<AlertsView> {
    return ctx.monitoring.alerts.read();
  }
}
