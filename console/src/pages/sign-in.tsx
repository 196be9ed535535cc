import { gql } from '@apollo/client';
import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { problemsOf } from '../errors';
import { AUTH_PAYLOAD_FIELDS, sessionOf, setSession, type AuthPayload } from '../session';
import { Problems } from '../ui';

const LOGIN = gql(`
  mutation ConsoleLogin($email: String!, $password: String!, $totpCode: String) {
    login(email: $email, password: $password, totpCode: $totpCode) { ${AUTH_PAYLOAD_FIELDS} }
  }
`);
const BEGIN_ENROLMENT = gql(`mutation ConsoleBeginTotp { beginTotpEnrolment { secret otpauthUri } }`);
const CONFIRM_ENROLMENT = gql(`
  mutation ConsoleConfirmTotp($code: String!) { confirmTotpEnrolment(code: $code) { ${AUTH_PAYLOAD_FIELDS} } }
`);

/** Email and password, then the authenticator's code when the account has two-factor on. */
export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [codeAsked, setCodeAsked] = useState(false);
  const [error, setError] = useState<unknown>();
  const [login, { loading }] = useMutation<{ login: AuthPayload }>(LOGIN);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const { data } = await login({ variables: { email, password, totpCode: codeAsked ? totpCode : undefined } });
      if (data) setSession(sessionOf(data.login));
    } catch (failure) {
      // The user service asks for the code with UNAUTHENTICATED and extensions.totpRequired.
      if (!codeAsked && problemsOf(failure).some((p) => /authenticator app/.test(p.message))) setCodeAsked(true);
      else setError(failure);
    }
  };

  return (
    <main className="sign-in">
      <h1>Analytica console</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required disabled={codeAsked} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required disabled={codeAsked} />
        </label>
        {codeAsked ? (
          <label>
            Code from your authenticator app
            <input
              name="totpCode"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="\d{6}"
              value={totpCode}
              onChange={(e) => setTotpCode(e.target.value)}
              required
              autoFocus
            />
          </label>
        ) : null}
        <button type="submit" disabled={loading}>
          {codeAsked ? 'Verify code' : 'Sign in'}
        </button>
        <Problems error={error} />
      </form>
    </main>
  );
}

/**
 * An administrator's first sign-in: the token only enrols an authenticator app. Shows the secret and
 * its otpauth URI, then confirms with a code; the new token pair has the ADMIN role's full rights.
 */
export function EnrolmentPage() {
  const [begin, begun] = useMutation<{ beginTotpEnrolment: { secret: string; otpauthUri: string } }>(BEGIN_ENROLMENT);
  const [confirm, confirmed] = useMutation<{ confirmTotpEnrolment: AuthPayload }>(CONFIRM_ENROLMENT);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>();
  const enrolment = begun.data?.beginTotpEnrolment;

  const start = async () => {
    setError(undefined);
    await begin().catch(setError);
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const { data } = await confirm({ variables: { code } });
      if (data) setSession(sessionOf(data.confirmTotpEnrolment));
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <main className="sign-in">
      <h1>Set up two-factor authentication</h1>
      <p>Administrators sign in with a code from an authenticator app. Add this account to yours, then enter the code it shows.</p>
      {enrolment ? (
        <form onSubmit={(e) => void submit(e)}>
          <dl className="enrolment">
            <dt>Secret (type it into the app)</dt>
            <dd>
              <code data-testid="totp-secret">{enrolment.secret}</code>
            </dd>
            <dt>Or open this URI in the app</dt>
            <dd>
              <code className="wrap">{enrolment.otpauthUri}</code>
            </dd>
          </dl>
          <label>
            Code from your authenticator app
            <input
              name="enrolmentCode"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="\d{6}"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              required
              autoFocus
            />
          </label>
          <button type="submit" disabled={confirmed.loading}>
            Turn on two-factor authentication
          </button>
        </form>
      ) : (
        <button type="button" onClick={() => void start()} disabled={begun.loading}>
          Show my secret
        </button>
      )}
      <Problems error={error} />
    </main>
  );
}
