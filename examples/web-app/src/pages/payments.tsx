import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { describeError, formatMoney, formatTime, parseAmount } from '../format';
import { graphql } from '../gql';

export const PAYMENT_FIELDS = graphql(`
  fragment PaymentFields on Payment {
    id
    payeeName
    reference
    status
    failureReason
    createdAt
    amount {
      amountMinor
      currency
    }
    history {
      status
      reason
      at
    }
  }
`);

const PAYMENTS = graphql(`
  query Payments {
    me {
      id
      bankAccounts {
        id
        bankName
        holderName
        accountNumber
        currency
        status
      }
      paymentsConnection(first: 10) {
        totalCount
        edges {
          node {
            ...PaymentFields
          }
        }
      }
    }
  }
`);

const VERIFY = graphql(`
  mutation VerifyBankAccount($id: ID!, $code: String!) {
    verifyBankAccount(id: $id, code: $code) {
      id
      status
    }
  }
`);
const RESEND = graphql(`
  mutation ResendBankAccountCode($id: ID!) {
    resendBankAccountCode(id: $id) {
      id
      status
    }
  }
`);
const PAY = graphql(`
  mutation InitiatePayment($idempotencyKey: String!, $input: InitiatePaymentInput!) {
    initiatePayment(idempotencyKey: $idempotencyKey, input: $input) {
      ...PaymentFields
    }
  }
`);
const CONFIRM = graphql(`
  mutation ConfirmPayment($id: ID!, $code: String!) {
    confirmPayment(id: $id, code: $code) {
      ...PaymentFields
    }
  }
`);
const STATUS = graphql(`
  subscription PaymentStatus($paymentId: ID!) {
    paymentStatus(paymentId: $paymentId) {
      ...PaymentFields
    }
  }
`);

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

function VerifyAccount({ id }: { id: string }) {
  const [code, setCode] = useState('');
  const [verify, verifying] = useMutation(VERIFY);
  const [resend, resending] = useMutation(RESEND);
  return (
    <form
      className="inline"
      onSubmit={(event) => {
        event.preventDefault();
        void verify({ variables: { id, code: code.trim() } }).catch(() => undefined);
      }}
    >
      <label>
        Code from the email
        <input inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} required />
      </label>
      <button type="submit" disabled={verifying.loading}>
        Verify
      </button>
      <button type="button" className="link" disabled={resending.loading} onClick={() => void resend({ variables: { id } }).catch(() => undefined)}>
        Send a new code
      </button>
      {(verifying.error ?? resending.error) && <p role="alert">{describeError(verifying.error ?? resending.error)}</p>}
    </form>
  );
}

/** The payment just made, its status as the socket brings it (the cache keeps the list's row in step). */
function PaymentProgress({ paymentId }: { paymentId: string }) {
  const { data, error } = useSubscription(STATUS, { variables: { paymentId } });
  const [code, setCode] = useState('');
  const [confirm, confirming] = useMutation(CONFIRM);
  const payment = data?.paymentStatus;
  return (
    <div className="panel" aria-label="Payment status" role="status">
      {error && <p role="alert">{describeError(error)}</p>}
      {!payment && !error && <p>Waiting for the bank…</p>}
      {payment && (
        <>
          <p>
            {formatMoney(payment.amount)} to {payment.payeeName}: <strong data-testid="payment-status">{payment.status}</strong>
            {payment.failureReason && ` (${payment.failureReason})`}
          </p>
          <ol className="muted">
            {payment.history.map((step) => (
              <li key={`${step.status}-${step.at}`}>
                {formatTime(step.at)} {step.status}
                {step.reason && `: ${step.reason}`}
              </li>
            ))}
          </ol>
          {payment.status === 'REQUIRES_ACTION' && (
            <form
              className="inline"
              onSubmit={(event) => {
                event.preventDefault();
                void confirm({ variables: { id: payment.id, code: code.trim() } }).catch(() => undefined);
              }}
            >
              <label>
                Confirmation code from the email
                <input inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} required />
              </label>
              <button type="submit" disabled={confirming.loading}>
                Confirm payment
              </button>
              {confirming.error && <p role="alert">{describeError(confirming.error)}</p>}
            </form>
          )}
          {FINAL.has(payment.status) && <p className={payment.status === 'SUCCEEDED' ? 'good' : 'bad'}>{payment.status === 'SUCCEEDED' ? 'Paid.' : 'Not paid.'}</p>}
        </>
      )}
    </div>
  );
}

export function PaymentsPage() {
  const { data, error } = useQuery(PAYMENTS, { fetchPolicy: 'cache-and-network' });
  const accounts = data?.me?.bankAccounts ?? [];
  const verified = accounts.filter((a) => a.status === 'VERIFIED');
  const [from, setFrom] = useState('');
  const [payee, setPayee] = useState('');
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState('');
  // One key per payment the person means to make: a retry after a lost answer cannot pay twice.
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const [inputProblem, setInputProblem] = useState('');
  const [pay, paying] = useMutation(PAY, { refetchQueries: [PAYMENTS] });
  const [paymentId, setPaymentId] = useState<string | null>(null);
  const account = verified.find((a) => a.id === from) ?? verified[0];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!account) return;
    const amountMinor = parseAmount(amount, account.currency);
    if (amountMinor === null || amountMinor <= 0) return setInputProblem(`Enter an amount in ${account.currency}, e.g. 25.00.`);
    setInputProblem('');
    const result = await pay({
      variables: { idempotencyKey, input: { bankAccountId: account.id, amount: { amountMinor, currency: account.currency }, payeeName: payee, reference } },
    }).catch(() => undefined);
    if (result?.data) {
      setPaymentId(result.data.initiatePayment.id);
      setIdempotencyKey(crypto.randomUUID());
    }
  };

  return (
    <section>
      <h1>Payments</h1>
      {error && <p role="alert">{describeError(error)}</p>}
      <h2>Bank accounts</h2>
      <ul className="cards" aria-label="Bank accounts">
        {accounts.map((a) => (
          <li key={a.id}>
            <strong>
              {a.bankName} {a.accountNumber}
            </strong>
            <span className="muted">
              {a.holderName}, {a.currency}
            </span>
            <span data-testid="bank-account-status">{a.status}</span>
            {a.status === 'PENDING_VERIFICATION' && <VerifyAccount id={a.id} />}
          </li>
        ))}
      </ul>

      <h2>Pay someone</h2>
      {verified.length === 0 ? (
        <p className="muted">Verify a bank account first.</p>
      ) : (
        <form onSubmit={(event) => void submit(event)}>
          <label>
            From
            <select value={account?.id} onChange={(e) => setFrom(e.target.value)}>
              {verified.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.bankName} {a.accountNumber}
                </option>
              ))}
            </select>
          </label>
          <label>
            Payee
            <input value={payee} onChange={(e) => setPayee(e.target.value)} required />
          </label>
          <label>
            Amount ({account?.currency})
            <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} required />
          </label>
          <label>
            Reference
            <input value={reference} onChange={(e) => setReference(e.target.value)} required />
          </label>
          <button type="submit" disabled={paying.loading}>
            Pay
          </button>
          {(inputProblem || paying.error) && <p role="alert">{inputProblem || describeError(paying.error)}</p>}
        </form>
      )}
      {paymentId && <PaymentProgress key={paymentId} paymentId={paymentId} />}

      <h2>Recent payments</h2>
      <table aria-label="Recent payments">
        <tbody>
          {data?.me?.paymentsConnection?.edges.map(({ node }) => (
            <tr key={node.id}>
              <td>{formatTime(node.createdAt)}</td>
              <td>{node.payeeName}</td>
              <td>{node.reference}</td>
              <td className="amount">{formatMoney(node.amount)}</td>
              <td>{node.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
