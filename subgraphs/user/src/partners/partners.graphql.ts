import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { PARTNER_SCOPES, requireUser, type AuthUser } from '@analytica/auth';
import { forbidden } from '@analytica/errors';
import { metaOf, type UserContext } from '../context.js';
import type { UserRecord } from '../users/user.entity.js';
import { User } from '../users/users.graphql.js';
import type { PartnerAppRecord, PartnerRecord, PartnerStatus } from './partner.entity.js';
import {
  appsOfPartner,
  consentsOf,
  createPartner,
  createPartnerApp,
  deletePartner,
  deletePartnerApp,
  grantConsent,
  listPartners,
  MAX_OVERLAP_SECONDS,
  reinstatePartner,
  revokeConsent,
  rotatePartnerAppSecret,
  suspendPartner,
  type ConsentView,
} from './partners.js';

enum PartnerStatusEnum {
  ACTIVE = 'ACTIVE',
  SUSPENDED = 'SUSPENDED',
}
registerEnumType(PartnerStatusEnum, {
  name: 'PartnerStatus',
  description: "Whether the partner's apps may get tokens. Suspending refuses the tokens they hold at once.",
  valuesConfig: {
    ACTIVE: { description: 'Its apps get tokens and are served.' },
    SUSPENDED: { description: "Its apps' tokens are refused until an administrator reinstates it." },
  },
});

@Directive('@tag(name: "console")')
@ObjectType('Partner', { description: 'Administrators: a company whose apps call the API, through the filtered schema of its contract.' })
class Partner {
  @Field(() => ID, { description: 'Id of the partner.' }) id!: string;
  @Field(() => String, { description: "The company's name, unique among partners." }) name!: string;
  @Field(() => String, { description: 'The contract (a filtered API schema in the schema registry) its apps are served.' }) contract!: string;
  @Field(() => PartnerStatusEnum, { description: 'Whether its apps may get tokens.' }) status!: PartnerStatus;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was added (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was suspended (UTC, ISO 8601); null while active.', nullable: true }) suspendedAt!: Date | null;
}

@Directive('@tag(name: "console")')
@ObjectType('PartnerApp', { description: "Administrators: one of a partner's apps, an OAuth2 client of POST /oauth/token." })
class PartnerApp {
  @Field(() => ID, { description: 'The OAuth2 client id.' }) id!: string;
  @Field(() => ID, { description: 'The partner the app belongs to.' }) partnerId!: string;
  @Field(() => String, { description: "The app's name." }) name!: string;
  @Field(() => [String], { description: `What its tokens may do: ${PARTNER_SCOPES.join(', ')} (user:read: act for users who consented).` }) scopes!: string[];
  @Field(() => Boolean, { description: 'The gateway accepts only operations the app registered beforehand (trusted documents).' })
  trustedDocumentsOnly!: boolean;
  @Field(() => Int, { description: 'Requests per minute its tokens may make; more are RATE_LIMITED.' }) ratePerMinute!: number;
  @Field(() => Int, { description: 'Requests per UTC day its tokens may make; more are RATE_LIMITED.' }) dailyQuota!: number;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was added (UTC, ISO 8601).' }) createdAt!: Date;
}

@Directive('@tag(name: "console")')
@ObjectType('PartnerAppCredentials', { description: 'A new app with its client secret. The secret is shown this once: only its hash is kept.' })
class PartnerAppCredentials {
  @Field(() => PartnerApp, { description: 'The new app; its id is the OAuth2 client id.' }) app!: PartnerAppRecord;
  @Field(() => String, { description: 'The OAuth2 client secret. Shown this once: store it now.' }) clientSecret!: string;
}

@Directive('@tag(name: "console")')
@ObjectType('PartnerAppSecretRotation', { description: 'The new client secret (shown this once) and until when the previous one keeps working.' })
class PartnerAppSecretRotation {
  @Field(() => PartnerApp, { description: 'The app.' }) app!: PartnerAppRecord;
  @Field(() => String, { description: 'The new OAuth2 client secret. Shown this once: store it now.' }) clientSecret!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the previous secrets stop working (UTC, ISO 8601); null when they stopped at once.', nullable: true })
  previousSecretExpiresAt!: Date | null;
}

@ObjectType('PartnerConsent', { description: "Your permission for a partner's apps to read your data. Revoke it to stop them at once." })
class PartnerConsent {
  @Field(() => ID, { description: 'Id of the consent, to revoke it.' }) id!: string;
  @Field(() => ID, { description: 'The partner you let in.' }) partnerId!: string;
  @Field(() => String, { description: "The partner's name." }) partnerName!: string;
  @Field(() => [String], { description: 'What its apps may do for you, e.g. user:read.' }) scopes!: string[];
  @Field(() => GraphQLDateTimeISO, { description: 'When you gave it (UTC, ISO 8601).' }) createdAt!: Date;
}

@InputType('CreatePartnerAppInput', { description: 'Administrators: a new app of a partner (createPartnerApp).' })
class CreatePartnerAppInput {
  @Field(() => ID, { description: 'The partner the app belongs to.' }) partnerId!: string;
  @Field(() => String, { description: '1 to 100 characters.' }) name!: string;
  @Field(() => [String], { nullable: true, defaultValue: ['read'], description: `Some of ${PARTNER_SCOPES.join(', ')}.` }) scopes?: string[] | null;
  @Field(() => Boolean, { description: 'When true, the gateway accepts only operations the app registered beforehand (trusted documents).', nullable: true, defaultValue: false })
  trustedDocumentsOnly?: boolean | null;
  @Field(() => Int, { nullable: true, defaultValue: 600, description: 'Requests per minute, 1 to 100000.' }) ratePerMinute?: number | null;
  @Field(() => Int, { nullable: true, defaultValue: 100_000, description: 'Requests per UTC day, 1 to 100000000.' }) dailyQuota?: number | null;
}

/** Everything here needs the ADMIN role (two-factor sign-in); every change is audited with it. */
@Resolver(() => Partner)
export class PartnerAdminResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [Partner], { description: 'Administrators: the partners that are not deleted, by name.' })
  partners(@Ctx() ctx: UserContext): Promise<PartnerRecord[]> {
    return listPartners(ctx.em, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @FieldResolver(() => [PartnerApp], { description: 'Its apps that are not deleted, oldest first.' })
  apps(@Root() partner: PartnerRecord, @Ctx() ctx: UserContext): Promise<PartnerAppRecord[]> {
    return appsOfPartner(ctx.em, partner.id);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Partner, { description: 'Administrators: adds a partner served the named contract. The name is unique among partners not deleted.' })
  createPartner(
    @Arg('name', () => String, { description: '1 to 100 characters.' }) name: string,
    @Arg('contract', () => String, { description: 'The contract its apps are served, as schema/contracts.yaml names it, e.g. "market-data".' }) contract: string,
    @Ctx() ctx: UserContext,
  ): Promise<PartnerRecord> {
    return createPartner(ctx.em, { name, contract }, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Partner, { description: "Administrators: refuses every token the partner's apps hold, at once, and new ones until reinstated." })
  suspendPartner(@Arg('id', () => ID, { description: 'The partner.' }) id: string, @Ctx() ctx: UserContext): Promise<PartnerRecord> {
    return suspendPartner(ctx.em, ctx.revocations, id, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Partner, { description: "Administrators: lets the partner's apps get tokens again (those from before the suspension stay refused)." })
  reinstatePartner(@Arg('id', () => ID, { description: 'A suspended partner.' }) id: string, @Ctx() ctx: UserContext): Promise<PartnerRecord> {
    return reinstatePartner(ctx.em, id, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Boolean, { description: 'Administrators: deletes the partner and its apps, ends the consents users gave it and refuses its tokens at once.' })
  async deletePartner(@Arg('id', () => ID, { description: 'The partner.' }) id: string, @Ctx() ctx: UserContext): Promise<boolean> {
    await deletePartner(ctx.em, ctx.revocations, id, metaOf(ctx));
    return true;
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => PartnerAppCredentials, { description: 'Administrators: adds an app (an OAuth2 client) to a partner; its client secret is shown this once.' })
  createPartnerApp(
    @Arg('input', () => CreatePartnerAppInput, { description: 'The partner, name, scopes and limits.' }) input: CreatePartnerAppInput,
    @Ctx() ctx: UserContext,
  ): Promise<PartnerAppCredentials> {
    return createPartnerApp(
      ctx.em,
      {
        partnerId: input.partnerId,
        name: input.name,
        scopes: input.scopes ?? ['read'],
        trustedDocumentsOnly: input.trustedDocumentsOnly ?? false,
        ratePerMinute: input.ratePerMinute ?? 600,
        dailyQuota: input.dailyQuota ?? 100_000,
      },
      metaOf(ctx),
    );
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => PartnerAppSecretRotation, {
    description: `Administrators: gives the app a new client secret (shown this once); the previous ones keep working for overlapSeconds (0 to ${MAX_OVERLAP_SECONDS}, 30 days), then stop.`,
  })
  rotatePartnerAppSecret(
    @Arg('appId', () => ID, { description: 'The app (its client id).' }) appId: string,
    @Arg('overlapSeconds', () => Int, { description: 'How long the previous secrets keep working, 0 to 2592000 seconds.' }) overlapSeconds: number,
    @Ctx() ctx: UserContext,
  ): Promise<PartnerAppSecretRotation> {
    return rotatePartnerAppSecret(ctx.em, appId, overlapSeconds, metaOf(ctx));
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Boolean, { description: 'Administrators: deletes the app; its secrets stop and its tokens are refused at once.' })
  async deletePartnerApp(@Arg('appId', () => ID, { description: 'The app (its client id).' }) appId: string, @Ctx() ctx: UserContext): Promise<boolean> {
    await deletePartnerApp(ctx.em, ctx.revocations, appId, metaOf(ctx));
    return true;
  }
}

/**
 * Consents are the user's own business: given and ended by the signed-in user, never through a
 * partner app's token (a consent token must not widen or extend itself).
 */
function consentingUser(ctx: UserContext): AuthUser {
  const user = requireUser(ctx);
  if (user.partner) throw forbidden('Partner consents are given and revoked by the user, not through a partner app.');
  return user;
}

@Resolver(() => User)
export class PartnerConsentResolver {
  @Authorized()
  @FieldResolver(() => [PartnerConsent], { description: 'The partners you let read your data (your own only).' })
  partnerConsents(@Root() user: UserRecord, @Ctx() ctx: UserContext): Promise<ConsentView[]> {
    if (consentingUser(ctx).id !== user.id) throw forbidden('Only the user themself sees which partners they gave consent to.');
    return consentsOf(ctx.em, user.id);
  }

  @Authorized()
  @Mutation(() => PartnerConsent, { description: "Lets the partner's apps read your data on your behalf; giving it again returns the consent in force." })
  grantPartnerConsent(@Arg('partnerId', () => ID, { description: 'The partner to let in.' }) partnerId: string, @Ctx() ctx: UserContext): Promise<ConsentView> {
    return grantConsent(ctx.em, consentingUser(ctx).id, partnerId, metaOf(ctx));
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ends a consent you gave: every token the partner got under it stops working at once.' })
  async revokePartnerConsent(@Arg('id', () => ID, { description: 'One of your consents (PartnerConsent.id).' }) id: string, @Ctx() ctx: UserContext): Promise<boolean> {
    await revokeConsent(ctx.em, ctx.revocations, consentingUser(ctx).id, id, metaOf(ctx));
    return true;
  }
}
