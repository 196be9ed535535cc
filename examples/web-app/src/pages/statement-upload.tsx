import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { describeError } from '../format';
import { graphql } from '../gql';

const ACCOUNTS = graphql(`
  query UploadAccounts {
    me {
      id
      accounts {
        id
        name
      }
    }
  }
`);
const START = graphql(`
  mutation StartStatementUpload($input: StartStatementUploadInput!) {
    startStatementUpload(input: $input) {
      uploadUrl
      maxBytes
      upload {
        id
      }
    }
  }
`);
const IMPORT = graphql(`
  mutation ImportStatement($input: ImportStatementInput!) {
    importStatement(input: $input) {
      id
      status
    }
  }
`);
const PROGRESS = graphql(`
  query StatementUploadProgress($id: ID!) {
    statementUpload(id: $id) {
      id
      status
      progress {
        phase
        linesDone
        lineCount
        fraction
      }
      result {
        rowCount
        imported
        duplicates
      }
      error {
        code
        message
        row
      }
    }
  }
`);

/**
 * Sends the file to the single-use upload URL with XMLHttpRequest, because fetch cannot report how
 * much of a request body has gone. The URL is on the gateway and allows this origin (CORS).
 */
function putFile(url: string, file: File, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('PUT', url);
    request.setRequestHeader('content-type', file.type || 'text/csv');
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => {
      if (request.status < 300) return resolve();
      let message = `The upload was refused (${request.status}).`;
      try {
        message = (JSON.parse(request.responseText) as { errors?: { message: string }[] }).errors?.[0]?.message ?? message;
      } catch {
        // not JSON: keep the status
      }
      reject(new Error(message));
    };
    request.onerror = () => reject(new Error('The upload was cut off. Check your connection and try again.'));
    request.send(file);
  });
}

const DONE = new Set(['IMPORTED', 'FAILED']);
const percent = (fraction: number) => `${Math.round(fraction * 100)} %`;

export function StatementUploadPage() {
  const accounts = useQuery(ACCOUNTS);
  const [accountId, setAccountId] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState({ date: 'Date', payee: 'Payee', amount: 'Amount', notes: 'Notes' });
  const [sent, setSent] = useState<number | null>(null);
  const [uploadId, setUploadId] = useState<string | null>(null);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);
  const [start] = useMutation(START);
  const [importStatement] = useMutation(IMPORT);
  // The import runs in the background; its progress is read every half second until it ends.
  const [importEnded, setImportEnded] = useState(false);
  const progress = useQuery(PROGRESS, { variables: { id: uploadId ?? '' }, skip: !uploadId, pollInterval: importEnded ? 0 : 500, fetchPolicy: 'network-only' });
  const upload = progress.data?.statementUpload;
  const client = useApolloClient();
  const refreshedFor = useRef<string | null>(null);
  useEffect(() => {
    setImportEnded(!!upload && DONE.has(upload.status));
    if (upload?.status !== 'IMPORTED' || refreshedFor.current === upload.id) return;
    refreshedFor.current = upload.id;
    // The account's balance and transactions the cache holds are from before the import: drop them,
    // and the pages that show them ask the API again.
    const me = client.cache.identify({ __typename: 'User', id: accounts.data?.me?.id ?? '' });
    for (const fieldName of ['transactions', 'accounts', 'transactionTotals', 'budgets']) client.cache.evict({ id: me, fieldName });
    client.cache.gc();
  }, [upload, client, accounts.data?.me?.id]);
  const account = accountId || accounts.data?.me?.accounts?.[0]?.id;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file || !account) return;
    setProblem('');
    setUploadId(null);
    setBusy(true);
    try {
      const started = await start({ variables: { input: { accountId: account, fileName: file.name, byteSize: file.size } } });
      const ticket = started.data!.startStatementUpload;
      setSent(0);
      await putFile(ticket.uploadUrl, file, setSent);
      await importStatement({ variables: { input: { uploadId: ticket.upload.id, format: /\.(ofx|qfx)$/i.test(file.name) ? 'OFX' : 'CSV', csv: columns } } });
      setUploadId(ticket.upload.id);
    } catch (failure) {
      setProblem(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>Import a statement</h1>
      <p className="muted">A CSV or OFX file from your bank, up to 50 MB. Every line is booked, or none is.</p>
      <form onSubmit={(event) => void submit(event)}>
        <label>
          Into account
          <select value={account} onChange={(e) => setAccountId(e.target.value)}>
            {accounts.data?.me?.accounts?.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Statement file
          <input type="file" accept=".csv,.ofx,.qfx,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
        </label>
        <fieldset>
          <legend>CSV columns</legend>
          {(['date', 'payee', 'amount', 'notes'] as const).map((column) => (
            <label key={column}>
              {column[0]!.toUpperCase() + column.slice(1)} column
              <input value={columns[column]} onChange={(e) => setColumns({ ...columns, [column]: e.target.value })} />
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy || !file}>
          Upload and import
        </button>
      </form>
      {sent !== null && (
        <p>
          Uploaded <progress max={1} value={sent} aria-label="Upload" /> <span data-testid="upload-progress">{percent(sent)}</span>
        </p>
      )}
      {upload?.progress && (
        <p>
          Importing ({upload.progress.phase.toLowerCase()}) <progress max={1} value={upload.progress.fraction} aria-label="Import" />{' '}
          <span data-testid="import-progress">
            {upload.progress.linesDone.toLocaleString()}
            {upload.progress.lineCount !== null && upload.progress.lineCount !== undefined && ` of ${upload.progress.lineCount.toLocaleString()}`} lines
          </span>
        </p>
      )}
      {upload?.status === 'IMPORTED' && upload.result && (
        <p className="good" role="status">
          Imported {upload.result.imported.toLocaleString()} of {upload.result.rowCount.toLocaleString()} lines ({upload.result.duplicates.toLocaleString()} duplicates skipped).
        </p>
      )}
      {upload?.status === 'FAILED' && upload.error && (
        <p role="alert">
          Nothing was imported: {upload.error.message}
          {upload.error.row ? ` (line ${upload.error.row})` : ''}
        </p>
      )}
      {problem && <p role="alert">{problem}</p>}
    </section>
  );
}
