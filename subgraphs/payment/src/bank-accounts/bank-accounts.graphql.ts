import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money } from '@analytica/subgraph';
import {
  connectBank,
  consentLeftUnused,
  linkBankAccount,
  providerLink,
  resendBankAccountCode,
  unlinkBankAccount,
  verifyBankAccount,
  type BankConnectionView,
  type OfferedAccount,
} from './bank-accounts.js';
import { BANK_ACCOUNT_STATUSES, type BankAccountRecord, type BankAccountStatus } from './bank-account.entity.js';
import type { PaymentContext } from '../context.js';

const BankAccountStatusEnum = Object.fromEntries(BANK_ACCOUNT_STATUSES.map((status) => [status, status])) as { [S in BankAccountStatus]: S };
registerEnumType(BankAccountStatusEnum, {
  name: 'BankAccountStatus',
  description: 'PENDING_VERIFICATION until the emailed code is entered; only a VERIFIED account sends payments. An UNLINKED one stays visible on its old payments.',
  valuesConfig: {
    PENDING_VERIFICATION: { description: 'Linked, waiting for the six-digit code emailed to you (verifyBankAccount); cannot pay yet.' },
    VERIFIED: { description: 'Confirmed with the code: payments can be sent from it.' },
    UNLINKED: { description: 'Unlinked by you: no new payments, kept for the payments already made from it.' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('BankAccount', { description: 'A bank account the user pays from. The full account number is never stored.' })
export class BankAccount {
  @Field(() => ID, { description: "Id of the linked account in Analytica (not the bank's)." }) id!: string;
  @Field(() => ID, { description: "The owner's user id." }) userId!: string;
  @Field(() => String, { description: 'The bank holding the account, as the provider names it.' }) bankName!: string;
  @Field(() => String, { description: "The account holder's name as the bank reports it." }) holderName!: string;
  @Field(() => String, { description: 'Masked to the last four characters, e.g. "•••• 3000".' }) accountNumber!: string;
  @Field(() => String, { description: 'ISO 4217 code: payments from this account are in this currency.' }) currency!: string;
  @Field(() => BankAccountStatusEnum, { description: 'Whether the account is waiting for its code, verified (can pay) or unlinked.' }) status!: BankAccountStatus;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was linked (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'When the emailed code was entered (UTC, ISO 8601); null while PENDING_VERIFICATION.', nullable: true }) verifiedAt!: Date | null;
}

@ObjectType('BankAccountOffer', { description: 'An account the bank listed under a connection; link it with linkBankAccount.' })
class BankAccountOffer {
  @Field(() => ID, { description: "The bank's id for the account, to pass to linkBankAccount." }) accountId!: string;
  @Field(() => String, { description: 'The bank\'s name for the account, e.g. "Everyday account".' }) name!: string;
  @Field(() => String, { description: "The account holder's name as the bank reports it." }) holderName!: string;
  @Field(() => String, { description: 'Masked, e.g. "•••• 3000".' }) accountNumber!: string;
  @Field(() => String, { description: 'ISO 4217 code of the account.' }) currency!: string;
  @Field(() => Boolean, { description: 'False when the bank reports the account closed: it cannot be linked.' }) open!: boolean;
  @Field(() => ID, { nullable: true, description: 'Your BankAccount for it, when you linked it already.' }) linkedAccountId!: string | null;
}

@ObjectType('BankConnection', { description: 'Access to your accounts that you granted at your bank (a consent).' })
class BankConnection {
  @Field(() => ID, { description: 'Id of the connection, to pass to linkBankAccount.' }) id!: string;
  @Field(() => String, { description: 'The bank, as the provider names it.' }) bankName!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the bank ends the access; connect again after it.' }) expiresAt!: Date;
  @Field(() => [BankAccountOffer], { description: 'The accounts the bank lists for you.' }) accounts!: OfferedAccount[];
}

@InputType('ConnectBankInput', { description: 'Which bank to connect (connectBank).' })
class ConnectBankInput {
  @Field(() => String, { description: 'The bank to connect, as the provider names it.' }) bankName!: string;
}

@InputType('LinkBankAccountInput', { description: 'Which account of a bank connection to link (linkBankAccount).' })
class LinkBankAccountInput {
  @Field(() => ID, { description: 'From connectBank.' }) connectionId!: string;
  @Field(() => ID, { description: "One of the connection's accounts (BankAccountOffer.accountId)." }) accountId!: string;
}

const connectionView = ({ connection, accounts }: BankConnectionView): BankConnection =>
  Object.assign(new BankConnection(), { id: connection.id, bankName: connection.bankName, expiresAt: connection.expiresAt, accounts });

@Resolver(() => BankAccount)
export class BankAccountResolver {
  @Authorized()
  @Mutation(() => BankConnection, {
    description: 'Asks your bank for access to your accounts (a consent) and lists them, so you can choose which to link.',
  })
  async connectBank(@Arg('input', () => ConnectBankInput, { description: 'The bank to connect.' }) input: ConnectBankInput, @Ctx() ctx: PaymentContext): Promise<BankConnection> {
    const user = requireUser(ctx);
    return connectionView(await connectBank(ctx.em, ctx.bank, user.id, input.bankName, ctx.settings.secret));
  }

  @Authorized()
  @Mutation(() => BankAccount, {
    description: 'Links one account of a connection. It is PENDING_VERIFICATION until you enter the code we email you (verifyBankAccount).',
  })
  async linkBankAccount(
    @Arg('input', () => LinkBankAccountInput, { description: 'The connection and the account to link.' }) input: LinkBankAccountInput,
    @Ctx() ctx: PaymentContext,
  ): Promise<BankAccountRecord> {
    const user = requireUser(ctx);
    const account = await linkBankAccount(ctx.em, ctx.bank, user.id, input, { secret: ctx.settings.secret, codeTtlSeconds: ctx.settings.codeTtlSeconds });
    ctx.pokeOutbox();
    return account;
  }

  @Authorized()
  @Mutation(() => BankAccount, { description: 'Verifies a linked account with the six-digit code we emailed; five wrong tries end the code.' })
  async verifyBankAccount(
    @Arg('id', () => ID, { description: 'One of your bank accounts, PENDING_VERIFICATION.' }) id: string,
    @Arg('code', () => String, { description: 'The six-digit code from the email.' }) code: string,
    @Ctx() ctx: PaymentContext,
  ): Promise<BankAccountRecord> {
    const user = requireUser(ctx);
    return verifyBankAccount(ctx.em, user.id, id, code, { secret: ctx.settings.secret, codeTtlSeconds: ctx.settings.codeTtlSeconds });
  }

  @Authorized()
  @Mutation(() => BankAccount, { description: 'Emails a new code for an account still PENDING_VERIFICATION.' })
  async resendBankAccountCode(
    @Arg('id', () => ID, { description: 'One of your bank accounts, PENDING_VERIFICATION.' }) id: string,
    @Ctx() ctx: PaymentContext,
  ): Promise<BankAccountRecord> {
    const user = requireUser(ctx);
    const account = await resendBankAccountCode(ctx.em, user.id, id, { secret: ctx.settings.secret, codeTtlSeconds: ctx.settings.codeTtlSeconds });
    ctx.pokeOutbox();
    return account;
  }

  @Authorized()
  @Mutation(() => BankAccount, { description: 'Unlinks one of your bank accounts; refused while payments from it are in progress.' })
  async unlinkBankAccount(@Arg('id', () => ID, { description: 'One of your bank accounts.' }) id: string, @Ctx() ctx: PaymentContext): Promise<BankAccountRecord> {
    const user = requireUser(ctx);
    const account = await unlinkBankAccount(ctx.em, user.id, id);
    // The last account of a connection gone: give the access back at the bank. Best effort, the
    // unlink stands either way (and the consent runs out by itself).
    const consentId = await consentLeftUnused(ctx.em, account.connectionId);
    if (consentId) await ctx.bank.revokeConsent(consentId).catch((error: unknown) => ctx.log.warn({ err: error }, 'could not revoke the bank consent'));
    return account;
  }

  @Authorized()
  @FieldResolver(() => Money, { nullable: true, description: 'The available balance, asked from the bank now; null when the bank does not answer.' })
  async availableBalance(@Root() account: BankAccountRecord, @Ctx() ctx: PaymentContext): Promise<Money | null> {
    assertOwnerOrAdmin(ctx, account.userId);
    if (account.status === 'UNLINKED') return null;
    const link = await providerLink(ctx.em, account);
    if (!link) return null;
    try {
      const balance = await ctx.bank.balance(link.consentId, link.providerAccountId);
      return Money.of(balance.amountMinor, balance.currency);
    } catch (error) {
      ctx.log.warn({ err: error, bankAccountId: account.id }, 'balance not available from the bank');
      return null;
    }
  }
}
