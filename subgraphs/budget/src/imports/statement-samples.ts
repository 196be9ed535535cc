/**
 * Bank statements as banks write them, for tests and benchmarks: OFX 1.x (SGML, unclosed leaf
 * elements, plain-text header), OFX 2.x (XML), QFX (Quicken's OFX 1.x with Intuit tags), and CSV.
 */

export interface SampleLine {
  /** OFX date-time as written, e.g. 20250303120000.000[-5:EST]. */
  posted: string;
  amount: string;
  fitId: string;
  name: string;
  memo?: string;
  type?: string;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function sgmlTransactions(lines: readonly SampleLine[]) {
  return lines
    .map(
      (l) => `<STMTTRN>
<TRNTYPE>${l.type ?? (l.amount.startsWith('-') ? 'DEBIT' : 'CREDIT')}
<DTPOSTED>${l.posted}
<TRNAMT>${l.amount}
<FITID>${l.fitId}
<NAME>${escapeXml(l.name)}
${l.memo ? `<MEMO>${escapeXml(l.memo)}\n` : ''}</STMTTRN>`,
    )
    .join('\n');
}

/** An OFX 1.02 bank statement, SGML, with Windows line ends as banks send it. */
export function ofxSgml(lines: readonly SampleLine[], options: { currency?: string; intuit?: boolean } = {}): string {
  const header = [
    'OFXHEADER:100',
    'DATA:OFXSGML',
    'VERSION:102',
    'SECURITY:NONE',
    'ENCODING:USASCII',
    'CHARSET:1252',
    'COMPRESSION:NONE',
    'OLDFILEUID:NONE',
    'NEWFILEUID:NONE',
    '',
  ].join('\r\n');
  const body = `<OFX>
<SIGNONMSGSRSV1>
<SONRS>
<STATUS>
<CODE>0
<SEVERITY>INFO
</STATUS>
<DTSERVER>20250310120000[0:GMT]
<LANGUAGE>ENG
${options.intuit ? '<FI>\n<ORG>Example Bank\n<FID>10898\n</FI>\n<INTU.BID>10898\n<INTU.USERID>ada\n' : ''}</SONRS>
</SIGNONMSGSRSV1>
<BANKMSGSRSV1>
<STMTTRNRS>
<TRNUID>1001
<STATUS>
<CODE>0
<SEVERITY>INFO
</STATUS>
<STMTRS>
<CURDEF>${options.currency ?? 'EUR'}
<BANKACCTFROM>
<BANKID>12345678
<ACCTID>0123456789
<ACCTTYPE>CHECKING
</BANKACCTFROM>
<BANKTRANLIST>
<DTSTART>20250301
<DTEND>20250331
${sgmlTransactions(lines)}
</BANKTRANLIST>
<LEDGERBAL>
<BALAMT>1234.56
<DTASOF>20250331
</LEDGERBAL>
</STMTRS>
</STMTTRNRS>
</BANKMSGSRSV1>
</OFX>
`;
  return `${header}\r\n${body.replace(/\n/g, '\r\n')}`;
}

/** An OFX 2.1.1 credit card statement, XML. */
export function ofxXml(lines: readonly SampleLine[], options: { currency?: string } = {}): string {
  const transactions = lines
    .map(
      (l) => `        <STMTTRN>
          <TRNTYPE>${l.type ?? (l.amount.startsWith('-') ? 'DEBIT' : 'CREDIT')}</TRNTYPE>
          <DTPOSTED>${l.posted}</DTPOSTED>
          <TRNAMT>${l.amount}</TRNAMT>
          <FITID>${l.fitId}</FITID>
          <NAME>${escapeXml(l.name)}</NAME>${l.memo ? `\n          <MEMO>${escapeXml(l.memo)}</MEMO>` : ''}
        </STMTTRN>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX>
  <SIGNONMSGSRSV1>
    <SONRS>
      <STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
      <DTSERVER>20250310120000.000[+1:CET]</DTSERVER>
      <LANGUAGE>ENG</LANGUAGE>
    </SONRS>
  </SIGNONMSGSRSV1>
  <CREDITCARDMSGSRSV1>
    <CCSTMTTRNRS>
      <TRNUID>0</TRNUID>
      <STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
      <CCSTMTRS>
        <CURDEF>${options.currency ?? 'EUR'}</CURDEF>
        <CCACCTFROM><ACCTID>4111********1111</ACCTID></CCACCTFROM>
        <BANKTRANLIST>
        <DTSTART>20250301000000.000[+1:CET]</DTSTART>
        <DTEND>20250331235959.000[+1:CET]</DTEND>
${transactions}
        </BANKTRANLIST>
        <LEDGERBAL><BALAMT>-512.30</BALAMT><DTASOF>20250331</DTASOF></LEDGERBAL>
      </CCSTMTRS>
    </CCSTMTTRNRS>
  </CREDITCARDMSGSRSV1>
</OFX>
`;
}

const PAYEES = ['Corner Market', 'City Transit', 'Trattoria Roma', 'Power & Light', 'Bookshop', 'Pharmacy', 'Cinema City', 'Green Grocer'];

/**
 * A CSV export of `rows` lines, header "Date,Payee,Amount,Notes", amounts with two decimals,
 * spread over the days after `start`. Deterministic.
 */
export function csvExport(rows: number, start = Date.UTC(2024, 0, 1)): string {
  const out = ['Date,Payee,Amount,Notes'];
  let seed = 42;
  // A linear congruential generator's low bits cycle quickly: use its high bits.
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) >>> 12;
  for (let i = 0; i < rows; i++) {
    const day = new Date(start + Math.floor(i / 50) * 86_400_000).toISOString().slice(0, 10);
    const cents = (next() % 20_000) + 1;
    const amount = `${i % 25 === 0 ? '' : '-'}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    out.push(`${day},${PAYEES[next() % PAYEES.length]} ${i % 97},${amount},line ${i + 1}`);
  }
  return `${out.join('\n')}\n`;
}
