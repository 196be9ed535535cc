import { Arg, Authorized, Ctx, Directive, Field, ID, InputType, Mutation, ObjectType, Resolver, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { linkBankAccount, unlinkBankAccount, type BankAccountRecord, type BankAccountStatus } from './bank-accounts.js';
import type { PaymentContext } from './schema.js';

enum BankAccountStatusEnum {
  PENDING_VERIFICATION = 'PENDING_VERIFICATION',
  VERIFIED = 'VERIFIED',
  UNLINKED = 'UNLINKED',
}
registerEnumType(BankAccountStatusEnum, {
  name: 'BankAccountStatus',
  description: 'Only a VERIFIED account can send payments; an UNLINKED one stays visible on its old payments.',
});

@Directive('@key(fields: "id")')
@ObjectType('BankAccount', { description: 'A bank account the user pays from. The full account number is never stored.' })
export class BankAccount {
  @Field(() => ID) id!: string;
  @Field(() => ID) userId!: string;
  @Field(() => String) bankName!: string;
  @Field(() => String) holderName!: string;
  @Field(() => String, { description: 'Masked to the last four characters, e.g. "•••• 3000".' }) accountNumber!: string;
  @Field(() => String, { description: 'ISO 4217 code: payments from this account are in this currency.' }) currency!: string;
  @Field(() => BankAccountStatusEnum) status!: BankAccountStatus;
  @Field(() => GraphQLDateTimeISO) createdAt!: Date;
}

@InputType('LinkBankAccountInput')
class LinkBankAccountInput {
  @Field(() => String) bankName!: string;
  @Field(() => String) holderName!: string;
  @Field(() => String, { description: 'The IBAN, with or without spaces.' }) iban!: string;
  @Field(() => String, { description: 'ISO 4217 code of the account.' }) currency!: string;
}

@Resolver(() => BankAccount)
export class BankAccountResolver {
  @Authorized()
  @Mutation(() => BankAccount, { description: 'Links a bank account by IBAN; the same account cannot be linked twice.' })
  async linkBankAccount(@Arg('input', () => LinkBankAccountInput) input: LinkBankAccountInput, @Ctx() ctx: PaymentContext): Promise<BankAccountRecord> {
    const user = requireUser(ctx);
    return linkBankAccount(ctx.em, user.id, input, ctx.fingerprintSecret);
  }

  @Authorized()
  @Mutation(() => BankAccount, { description: 'Unlinks one of your bank accounts; refused while payments from it are in progress.' })
  async unlinkBankAccount(@Arg('id', () => ID) id: string, @Ctx() ctx: PaymentContext): Promise<BankAccountRecord> {
    const user = requireUser(ctx);
    return unlinkBankAccount(ctx.em, user.id, id);
  }
}
