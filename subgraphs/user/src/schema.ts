import { assertOwnerOrAdmin } from '@analytica/auth';
import { buildFederatedSchema } from '@analytica/subgraph';
import { AdminResolver } from './schema-admin.js';
import { SessionResolver } from './schema-sessions.js';
import { TotpResolver } from './schema-totp.js';
import { UserResolver, type UserContext } from './schema-user.js';
import { UserRecord } from './users.js';

export type { UserContext } from './schema-user.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function buildUserSchema() {
  return buildFederatedSchema({
    resolvers: [UserResolver, SessionResolver, TotpResolver, AdminResolver],
    referenceResolvers: {
      User: {
        // The gateway asks for users by id on behalf of a caller: only that caller or an admin gets one.
        async __resolveReference(reference: { id: string }, ctx: UserContext) {
          assertOwnerOrAdmin(ctx, reference.id);
          return UUID.test(reference.id) ? ctx.em.findOne(UserRecord, { id: reference.id }) : null;
        },
      },
    },
  });
}
