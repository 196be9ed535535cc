/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation SignOut {\n    logout\n  }\n": typeof types.SignOutDocument,
    "\n  query Accounts {\n    me {\n      id\n      accounts {\n        id\n        name\n        type\n        balance {\n          amountMinor\n          currency\n        }\n      }\n      categories {\n        id\n        name\n      }\n    }\n  }\n": typeof types.AccountsDocument,
    "\n  query Transactions($filter: TransactionFilter, $after: String) {\n    me {\n      id\n      transactions(filter: $filter, first: 25, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n            bookedAt\n            payee\n            notes\n            amount {\n              amountMinor\n              currency\n            }\n            category {\n              id\n              name\n            }\n            account {\n              id\n              name\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.TransactionsDocument,
    "\n  query Budgets {\n    me {\n      id\n      budgets {\n        id\n        period\n        startsOn\n        endsOn\n        overspent\n        category {\n          id\n          name\n        }\n        amount {\n          amountMinor\n          currency\n        }\n        spent {\n          amountMinor\n          currency\n        }\n        remaining {\n          amountMinor\n          currency\n        }\n      }\n    }\n  }\n": typeof types.BudgetsDocument,
    "\n  query NewsFeed($after: String) {\n    me {\n      id\n      myFeed(first: 10, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            title\n            summary\n            source\n            url\n            symbols\n            publishedAt\n            savedByMe\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.NewsFeedDocument,
    "\n  mutation SaveArticle($id: ID!) {\n    saveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n": typeof types.SaveArticleDocument,
    "\n  mutation RecordArticleClick($id: ID!) {\n    recordArticleClick(id: $id) {\n      id\n    }\n  }\n": typeof types.RecordArticleClickDocument,
    "\n  mutation UnsaveArticle($id: ID!) {\n    unsaveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n": typeof types.UnsaveArticleDocument,
    "\n  fragment PaymentFields on Payment {\n    id\n    payeeName\n    reference\n    status\n    failureReason\n    createdAt\n    amount {\n      amountMinor\n      currency\n    }\n    history {\n      status\n      reason\n      at\n    }\n  }\n": typeof types.PaymentFieldsFragmentDoc,
    "\n  query Payments {\n    me {\n      id\n      bankAccounts {\n        id\n        bankName\n        holderName\n        accountNumber\n        currency\n        status\n      }\n      paymentsConnection(first: 10) {\n        totalCount\n        edges {\n          node {\n            ...PaymentFields\n          }\n        }\n      }\n    }\n  }\n": typeof types.PaymentsDocument,
    "\n  mutation VerifyBankAccount($id: ID!, $code: String!) {\n    verifyBankAccount(id: $id, code: $code) {\n      id\n      status\n    }\n  }\n": typeof types.VerifyBankAccountDocument,
    "\n  mutation ResendBankAccountCode($id: ID!) {\n    resendBankAccountCode(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.ResendBankAccountCodeDocument,
    "\n  mutation InitiatePayment($idempotencyKey: String!, $input: InitiatePaymentInput!) {\n    initiatePayment(idempotencyKey: $idempotencyKey, input: $input) {\n      ...PaymentFields\n    }\n  }\n": typeof types.InitiatePaymentDocument,
    "\n  mutation ConfirmPayment($id: ID!, $code: String!) {\n    confirmPayment(id: $id, code: $code) {\n      ...PaymentFields\n    }\n  }\n": typeof types.ConfirmPaymentDocument,
    "\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n": typeof types.PaymentStatusDocument,
    "\n  mutation SignIn($email: String!, $password: String!, $totpCode: String) {\n    login(email: $email, password: $password, totpCode: $totpCode) {\n      ...SessionFields\n    }\n  }\n": typeof types.SignInDocument,
    "\n  query UploadAccounts {\n    me {\n      id\n      accounts {\n        id\n        name\n      }\n    }\n  }\n": typeof types.UploadAccountsDocument,
    "\n  mutation StartStatementUpload($input: StartStatementUploadInput!) {\n    startStatementUpload(input: $input) {\n      uploadUrl\n      maxBytes\n      upload {\n        id\n      }\n    }\n  }\n": typeof types.StartStatementUploadDocument,
    "\n  mutation ImportStatement($input: ImportStatementInput!) {\n    importStatement(input: $input) {\n      id\n      status\n    }\n  }\n": typeof types.ImportStatementDocument,
    "\n  query StatementUploadProgress($id: ID!) {\n    statementUpload(id: $id) {\n      id\n      status\n      progress {\n        phase\n        linesDone\n        lineCount\n        fraction\n      }\n      result {\n        rowCount\n        imported\n        duplicates\n      }\n      error {\n        code\n        message\n        row\n      }\n    }\n  }\n": typeof types.StatementUploadProgressDocument,
    "\n  fragment WatchlistQuote on Quote {\n    id\n    last\n    change\n    changePercent\n    time\n    marketState\n    stale\n  }\n": typeof types.WatchlistQuoteFragmentDoc,
    "\n  query Watchlist {\n    me {\n      id\n      watchlist {\n        id\n        symbol\n        name\n        currency\n        quote {\n          ...WatchlistQuote\n        }\n      }\n    }\n  }\n": typeof types.WatchlistDocument,
    "\n  subscription LiveQuotes($symbols: [String!]!) {\n    quotes(symbols: $symbols) {\n      ...WatchlistQuote\n    }\n  }\n": typeof types.LiveQuotesDocument,
    "\n  mutation AddToWatchlist($symbol: String!) {\n    addToWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n": typeof types.AddToWatchlistDocument,
    "\n  mutation RemoveFromWatchlist($symbol: String!) {\n    removeFromWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n": typeof types.RemoveFromWatchlistDocument,
    "\n  fragment SessionFields on AuthPayload {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      email\n      displayName\n    }\n  }\n": typeof types.SessionFieldsFragmentDoc,
    "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionFields\n    }\n  }\n": typeof types.RefreshSessionDocument,
};
const documents: Documents = {
    "\n  mutation SignOut {\n    logout\n  }\n": types.SignOutDocument,
    "\n  query Accounts {\n    me {\n      id\n      accounts {\n        id\n        name\n        type\n        balance {\n          amountMinor\n          currency\n        }\n      }\n      categories {\n        id\n        name\n      }\n    }\n  }\n": types.AccountsDocument,
    "\n  query Transactions($filter: TransactionFilter, $after: String) {\n    me {\n      id\n      transactions(filter: $filter, first: 25, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n            bookedAt\n            payee\n            notes\n            amount {\n              amountMinor\n              currency\n            }\n            category {\n              id\n              name\n            }\n            account {\n              id\n              name\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.TransactionsDocument,
    "\n  query Budgets {\n    me {\n      id\n      budgets {\n        id\n        period\n        startsOn\n        endsOn\n        overspent\n        category {\n          id\n          name\n        }\n        amount {\n          amountMinor\n          currency\n        }\n        spent {\n          amountMinor\n          currency\n        }\n        remaining {\n          amountMinor\n          currency\n        }\n      }\n    }\n  }\n": types.BudgetsDocument,
    "\n  query NewsFeed($after: String) {\n    me {\n      id\n      myFeed(first: 10, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            title\n            summary\n            source\n            url\n            symbols\n            publishedAt\n            savedByMe\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.NewsFeedDocument,
    "\n  mutation SaveArticle($id: ID!) {\n    saveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n": types.SaveArticleDocument,
    "\n  mutation RecordArticleClick($id: ID!) {\n    recordArticleClick(id: $id) {\n      id\n    }\n  }\n": types.RecordArticleClickDocument,
    "\n  mutation UnsaveArticle($id: ID!) {\n    unsaveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n": types.UnsaveArticleDocument,
    "\n  fragment PaymentFields on Payment {\n    id\n    payeeName\n    reference\n    status\n    failureReason\n    createdAt\n    amount {\n      amountMinor\n      currency\n    }\n    history {\n      status\n      reason\n      at\n    }\n  }\n": types.PaymentFieldsFragmentDoc,
    "\n  query Payments {\n    me {\n      id\n      bankAccounts {\n        id\n        bankName\n        holderName\n        accountNumber\n        currency\n        status\n      }\n      paymentsConnection(first: 10) {\n        totalCount\n        edges {\n          node {\n            ...PaymentFields\n          }\n        }\n      }\n    }\n  }\n": types.PaymentsDocument,
    "\n  mutation VerifyBankAccount($id: ID!, $code: String!) {\n    verifyBankAccount(id: $id, code: $code) {\n      id\n      status\n    }\n  }\n": types.VerifyBankAccountDocument,
    "\n  mutation ResendBankAccountCode($id: ID!) {\n    resendBankAccountCode(id: $id) {\n      id\n      status\n    }\n  }\n": types.ResendBankAccountCodeDocument,
    "\n  mutation InitiatePayment($idempotencyKey: String!, $input: InitiatePaymentInput!) {\n    initiatePayment(idempotencyKey: $idempotencyKey, input: $input) {\n      ...PaymentFields\n    }\n  }\n": types.InitiatePaymentDocument,
    "\n  mutation ConfirmPayment($id: ID!, $code: String!) {\n    confirmPayment(id: $id, code: $code) {\n      ...PaymentFields\n    }\n  }\n": types.ConfirmPaymentDocument,
    "\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n": types.PaymentStatusDocument,
    "\n  mutation SignIn($email: String!, $password: String!, $totpCode: String) {\n    login(email: $email, password: $password, totpCode: $totpCode) {\n      ...SessionFields\n    }\n  }\n": types.SignInDocument,
    "\n  query UploadAccounts {\n    me {\n      id\n      accounts {\n        id\n        name\n      }\n    }\n  }\n": types.UploadAccountsDocument,
    "\n  mutation StartStatementUpload($input: StartStatementUploadInput!) {\n    startStatementUpload(input: $input) {\n      uploadUrl\n      maxBytes\n      upload {\n        id\n      }\n    }\n  }\n": types.StartStatementUploadDocument,
    "\n  mutation ImportStatement($input: ImportStatementInput!) {\n    importStatement(input: $input) {\n      id\n      status\n    }\n  }\n": types.ImportStatementDocument,
    "\n  query StatementUploadProgress($id: ID!) {\n    statementUpload(id: $id) {\n      id\n      status\n      progress {\n        phase\n        linesDone\n        lineCount\n        fraction\n      }\n      result {\n        rowCount\n        imported\n        duplicates\n      }\n      error {\n        code\n        message\n        row\n      }\n    }\n  }\n": types.StatementUploadProgressDocument,
    "\n  fragment WatchlistQuote on Quote {\n    id\n    last\n    change\n    changePercent\n    time\n    marketState\n    stale\n  }\n": types.WatchlistQuoteFragmentDoc,
    "\n  query Watchlist {\n    me {\n      id\n      watchlist {\n        id\n        symbol\n        name\n        currency\n        quote {\n          ...WatchlistQuote\n        }\n      }\n    }\n  }\n": types.WatchlistDocument,
    "\n  subscription LiveQuotes($symbols: [String!]!) {\n    quotes(symbols: $symbols) {\n      ...WatchlistQuote\n    }\n  }\n": types.LiveQuotesDocument,
    "\n  mutation AddToWatchlist($symbol: String!) {\n    addToWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n": types.AddToWatchlistDocument,
    "\n  mutation RemoveFromWatchlist($symbol: String!) {\n    removeFromWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n": types.RemoveFromWatchlistDocument,
    "\n  fragment SessionFields on AuthPayload {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      email\n      displayName\n    }\n  }\n": types.SessionFieldsFragmentDoc,
    "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionFields\n    }\n  }\n": types.RefreshSessionDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignOut {\n    logout\n  }\n"): (typeof documents)["\n  mutation SignOut {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Accounts {\n    me {\n      id\n      accounts {\n        id\n        name\n        type\n        balance {\n          amountMinor\n          currency\n        }\n      }\n      categories {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query Accounts {\n    me {\n      id\n      accounts {\n        id\n        name\n        type\n        balance {\n          amountMinor\n          currency\n        }\n      }\n      categories {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Transactions($filter: TransactionFilter, $after: String) {\n    me {\n      id\n      transactions(filter: $filter, first: 25, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n            bookedAt\n            payee\n            notes\n            amount {\n              amountMinor\n              currency\n            }\n            category {\n              id\n              name\n            }\n            account {\n              id\n              name\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Transactions($filter: TransactionFilter, $after: String) {\n    me {\n      id\n      transactions(filter: $filter, first: 25, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n            bookedAt\n            payee\n            notes\n            amount {\n              amountMinor\n              currency\n            }\n            category {\n              id\n              name\n            }\n            account {\n              id\n              name\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Budgets {\n    me {\n      id\n      budgets {\n        id\n        period\n        startsOn\n        endsOn\n        overspent\n        category {\n          id\n          name\n        }\n        amount {\n          amountMinor\n          currency\n        }\n        spent {\n          amountMinor\n          currency\n        }\n        remaining {\n          amountMinor\n          currency\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Budgets {\n    me {\n      id\n      budgets {\n        id\n        period\n        startsOn\n        endsOn\n        overspent\n        category {\n          id\n          name\n        }\n        amount {\n          amountMinor\n          currency\n        }\n        spent {\n          amountMinor\n          currency\n        }\n        remaining {\n          amountMinor\n          currency\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NewsFeed($after: String) {\n    me {\n      id\n      myFeed(first: 10, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            title\n            summary\n            source\n            url\n            symbols\n            publishedAt\n            savedByMe\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query NewsFeed($after: String) {\n    me {\n      id\n      myFeed(first: 10, after: $after) {\n        edges {\n          cursor\n          node {\n            id\n            title\n            summary\n            source\n            url\n            symbols\n            publishedAt\n            savedByMe\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SaveArticle($id: ID!) {\n    saveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n"): (typeof documents)["\n  mutation SaveArticle($id: ID!) {\n    saveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RecordArticleClick($id: ID!) {\n    recordArticleClick(id: $id) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation RecordArticleClick($id: ID!) {\n    recordArticleClick(id: $id) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnsaveArticle($id: ID!) {\n    unsaveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n"): (typeof documents)["\n  mutation UnsaveArticle($id: ID!) {\n    unsaveArticle(id: $id) {\n      id\n      savedByMe\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PaymentFields on Payment {\n    id\n    payeeName\n    reference\n    status\n    failureReason\n    createdAt\n    amount {\n      amountMinor\n      currency\n    }\n    history {\n      status\n      reason\n      at\n    }\n  }\n"): (typeof documents)["\n  fragment PaymentFields on Payment {\n    id\n    payeeName\n    reference\n    status\n    failureReason\n    createdAt\n    amount {\n      amountMinor\n      currency\n    }\n    history {\n      status\n      reason\n      at\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Payments {\n    me {\n      id\n      bankAccounts {\n        id\n        bankName\n        holderName\n        accountNumber\n        currency\n        status\n      }\n      paymentsConnection(first: 10) {\n        totalCount\n        edges {\n          node {\n            ...PaymentFields\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Payments {\n    me {\n      id\n      bankAccounts {\n        id\n        bankName\n        holderName\n        accountNumber\n        currency\n        status\n      }\n      paymentsConnection(first: 10) {\n        totalCount\n        edges {\n          node {\n            ...PaymentFields\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyBankAccount($id: ID!, $code: String!) {\n    verifyBankAccount(id: $id, code: $code) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyBankAccount($id: ID!, $code: String!) {\n    verifyBankAccount(id: $id, code: $code) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResendBankAccountCode($id: ID!) {\n    resendBankAccountCode(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ResendBankAccountCode($id: ID!) {\n    resendBankAccountCode(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation InitiatePayment($idempotencyKey: String!, $input: InitiatePaymentInput!) {\n    initiatePayment(idempotencyKey: $idempotencyKey, input: $input) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  mutation InitiatePayment($idempotencyKey: String!, $input: InitiatePaymentInput!) {\n    initiatePayment(idempotencyKey: $idempotencyKey, input: $input) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmPayment($id: ID!, $code: String!) {\n    confirmPayment(id: $id, code: $code) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  mutation ConfirmPayment($id: ID!, $code: String!) {\n    confirmPayment(id: $id, code: $code) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignIn($email: String!, $password: String!, $totpCode: String) {\n    login(email: $email, password: $password, totpCode: $totpCode) {\n      ...SessionFields\n    }\n  }\n"): (typeof documents)["\n  mutation SignIn($email: String!, $password: String!, $totpCode: String) {\n    login(email: $email, password: $password, totpCode: $totpCode) {\n      ...SessionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UploadAccounts {\n    me {\n      id\n      accounts {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query UploadAccounts {\n    me {\n      id\n      accounts {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartStatementUpload($input: StartStatementUploadInput!) {\n    startStatementUpload(input: $input) {\n      uploadUrl\n      maxBytes\n      upload {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation StartStatementUpload($input: StartStatementUploadInput!) {\n    startStatementUpload(input: $input) {\n      uploadUrl\n      maxBytes\n      upload {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ImportStatement($input: ImportStatementInput!) {\n    importStatement(input: $input) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ImportStatement($input: ImportStatementInput!) {\n    importStatement(input: $input) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StatementUploadProgress($id: ID!) {\n    statementUpload(id: $id) {\n      id\n      status\n      progress {\n        phase\n        linesDone\n        lineCount\n        fraction\n      }\n      result {\n        rowCount\n        imported\n        duplicates\n      }\n      error {\n        code\n        message\n        row\n      }\n    }\n  }\n"): (typeof documents)["\n  query StatementUploadProgress($id: ID!) {\n    statementUpload(id: $id) {\n      id\n      status\n      progress {\n        phase\n        linesDone\n        lineCount\n        fraction\n      }\n      result {\n        rowCount\n        imported\n        duplicates\n      }\n      error {\n        code\n        message\n        row\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WatchlistQuote on Quote {\n    id\n    last\n    change\n    changePercent\n    time\n    marketState\n    stale\n  }\n"): (typeof documents)["\n  fragment WatchlistQuote on Quote {\n    id\n    last\n    change\n    changePercent\n    time\n    marketState\n    stale\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Watchlist {\n    me {\n      id\n      watchlist {\n        id\n        symbol\n        name\n        currency\n        quote {\n          ...WatchlistQuote\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Watchlist {\n    me {\n      id\n      watchlist {\n        id\n        symbol\n        name\n        currency\n        quote {\n          ...WatchlistQuote\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveQuotes($symbols: [String!]!) {\n    quotes(symbols: $symbols) {\n      ...WatchlistQuote\n    }\n  }\n"): (typeof documents)["\n  subscription LiveQuotes($symbols: [String!]!) {\n    quotes(symbols: $symbols) {\n      ...WatchlistQuote\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddToWatchlist($symbol: String!) {\n    addToWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation AddToWatchlist($symbol: String!) {\n    addToWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveFromWatchlist($symbol: String!) {\n    removeFromWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation RemoveFromWatchlist($symbol: String!) {\n    removeFromWatchlist(symbol: $symbol) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SessionFields on AuthPayload {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      email\n      displayName\n    }\n  }\n"): (typeof documents)["\n  fragment SessionFields on AuthPayload {\n    accessToken\n    refreshToken\n    expiresAt\n    user {\n      id\n      email\n      displayName\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionFields\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      ...SessionFields\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;