// What an error answer must never carry (issue 21, acceptance 2), in one place: the attack suite
// checks its answers with it, and no-leaks.setup.ts checks every error answer of every test.
// The patterns describe what PostgreSQL, the driver, the ORM and Node write, not words a message
// written for a client may use: a CSV import may well say `the file has no column "amount"`.

/**
 * SQL, PostgreSQL's own words, schema or table names (test runs name their schemas
 * `<prefix>_<time>_<hex>`, e.g. `sec_m1x2_a1b2c3_budget`), driver or ORM names, file paths, stack frames.
 */
export const LEAKS: RegExp[] = [
  // SQL statements, as a driver error quotes them.
  /\bselect\s+(?:distinct\s+)?(?:[\w"*.]+(?:\s*::\s*\w+)?(?:\s+as\s+"?\w+"?)?\s*,\s*)*[\w"*.]+(?:\s*::\s*\w+)?(?:\s+as\s+"?\w+"?)?\s+from\s+"?\w/i,
  /\binsert\s+into\s+"?\w+"?(?:\."?\w+"?)?\s*(?:\(|values\b|select\b)/i,
  /\bupdate\s+"?\w+"?(?:\."?\w+"?)?\s+(?:as\s+\w+\s+)?set\s+"?\w+"?\s*=/i,
  /\bdelete\s+from\s+"?\w+"?(?:\."?\w+"?)?(?:\s+(?:as\s+\w+|where)\b|\s*$)/i,
  /\$\d+\s*(?:,\s*\$\d+\s*)+\)/, // a list of bind parameters: ($1, $2, $3)
  // PostgreSQL's messages.
  /\brelation\s+\\?"[^"\\]+\\?"|\bcolumn\s+\\?"[^"\\]+\\?"\s+(?:of relation|does not exist|is of type|cannot be)|\b(?:constraint|schema)\s+\\?"[^"\\]+\\?"\s+(?:does not exist|for relation)|\bfor table\s+\\?"[^"\\]+\\?"/i,
  /violates (?:not-null|foreign key|unique|check|exclusion) constraint|duplicate key value|syntax error at or near|invalid byte sequence for encoding|out of range for type|date\/time field value out of range|numeric field overflow|invalid input syntax for type|canceling statement due to|current transaction is aborted|could not serialize access|deadlock detected|value too long for type/i,
  // Schema-qualified names: this repository's schemas, and test runs' own.
  /\bsec_[a-z0-9]+_[a-f0-9]{6}_[a-z]+\b/,
  /\b[a-z][a-z0-9_]*_[a-z0-9]{6,}_[a-f0-9]{6}(?:_[a-z]+)?\\?"?\.\\?"?[a-z_]+/,
  /\b(users|user|budget|market|news|payment|insight|notifications|registry)\.(accounts|transactions|transaction_splits|transaction_lines|users|sessions|refresh_tokens|outbox|audit_log|categories|budgets|bank_accounts|bank_connections|payments|schedules|rules|imports|splits|spending|reports|report_lines|insights|processed_events)\b/,
  // Stack traces and the files they name.
  /\bat\s+(?:async\s+)?(?:new\s+)?[\w$.<>[\]]*\s*\(?(?:file:\/\/|\/|node:|[A-Za-z]:\\)[^\s()]*:\d+(?::\d+)?\)?/,
  /\bat Object\.<anonymous>|(?:\n|\\n)\s+at\s+\S/,
  /node_modules|\/work\/|MikroORM|DriverException|QueryFailedError|ECONNREFUSED|\b(?:TypeError|RangeError|ReferenceError|SyntaxError): /i,
];

/**
 * The patterns of LEAKS that `text` matches (none for a clean answer). Answers are often checked
 * as JSON, where a quoted identifier is \"name\": both spellings are read.
 */
export const leaksIn = (text: string) => {
  const unescaped = text.replace(/\\"/g, '"');
  return LEAKS.filter((pattern) => pattern.test(text) || pattern.test(unescaped)).map(String);
};
