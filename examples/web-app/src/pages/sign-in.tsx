import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { describeError } from '../format';
import { graphql } from '../gql';
import { setSession, type Session } from '../session';

const LOGIN = graphql(`
  mutation SignIn($email: String!, $password: String!, $totpCode: String) {
    login(email: $email, password: $password, totpCode: $totpCode) {
      ...SessionFields
    }
  }
`);

export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [login, { loading, error }] = useMutation(LOGIN);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const { data } = await login({ variables: { email, password, totpCode: needsCode ? totpCode : null } });
      if (data) setSession(data.login as Session);
    } catch (failure) {
      // Two-factor accounts: the API asks for the code with extensions.totpRequired.
      const details = (failure as { errors?: { extensions?: { totpRequired?: boolean } }[] }).errors;
      if (details?.some((e) => e.extensions?.totpRequired)) setNeedsCode(true);
    }
  };

  return (
    <main className="narrow">
      <h1>Sign in to Analytica</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label>
          Email
          <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </label>
        <label>
          Password
          <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {needsCode && (
          <label>
            Code from your authenticator app
            <input inputMode="numeric" autoComplete="one-time-code" value={totpCode} onChange={(e) => setTotpCode(e.target.value)} required />
          </label>
        )}
        <button type="submit" disabled={loading}>
          Sign in
        </button>
        {error && !needsCode && <p role="alert">{describeError(error)}</p>}
      </form>
    </main>
  );
}
