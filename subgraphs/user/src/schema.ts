import { assertOwnerOrAdmin } from '@analytica/auth';
import { buildFederatedSchema } from '@analytica/subgraph';
import { isUuid } from '@analytica/subgraph/access';
import { AdminResolver } from './admin/admin.graphql.js';
import { AlertsResolver } from './operations/alerts.graphql.js';
import { GatewayInstancesResolver } from './operations/gateways.graphql.js';
import { HealthResolver } from './operations/health.graphql.js';
import { KafkaOperationsResolver } from './operations/kafka.graphql.js';
import { LogsResolver } from './operations/logs.graphql.js';
import { OperationUsageResolver } from './operations/usage.graphql.js';
import { TracesResolver } from './operations/traces.graphql.js';
import { PartnerAdminResolver, PartnerConsentResolver } from './partners/partners.graphql.js';
import { RecoveryResolver } from './recovery/recovery.graphql.js';
import { SessionResolver } from './sessions/sessions.graphql.js';
import { TotpResolver } from './totp/totp.graphql.js';
import { UserResolver } from './users/users.graphql.js';
import type { UserContext } from './context.js';
import { UserRecord } from './users/user.entity.js';

export function buildUserSchema() {
  return buildFederatedSchema({
    resolvers: [
      UserResolver,
      SessionResolver,
      RecoveryResolver,
      TotpResolver,
      AdminResolver,
      PartnerAdminResolver,
      PartnerConsentResolver,
      AlertsResolver,
      KafkaOperationsResolver,
      GatewayInstancesResolver,
      OperationUsageResolver,
      LogsResolver,
      HealthResolver,
      TracesResolver,
    ],
    referenceResolvers: {
      User: {
        // The gateway asks for users by id on behalf of a caller: only that caller or an admin gets one.
        async __resolveReference(reference: { id: string }, ctx: UserContext) {
          assertOwnerOrAdmin(ctx, reference.id);
          return isUuid(reference.id) ? ctx.em.findOne(UserRecord, { id: reference.id }) : null;
        },
      },
    },
  });
}
