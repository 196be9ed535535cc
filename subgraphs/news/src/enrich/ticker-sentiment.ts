import type { SentimentModel } from './sentiment.js';
import type { TickerMatcher } from './tickers.js';

export interface TickerSentiment {
  symbol: string;
  /** From -1 (negative) to 1 (positive) for this instrument, rounded to 4 decimals. */
  score: number;
}

/**
 * Sentences of a summary or body: a break after ".", "!" or "?" before a capital, digit or quote,
 * and every line break. "Inc." before a capital is cut too; a clause of a company's name alone
 * then names nobody, which only falls back to the sentence around it.
 */
export function sentencesOf(text: string): string[] {
  return text
    .split(/\n+|(?<=[.!?])\s+(?=["'“‘(]?[\p{Lu}\p{N}])/u)
    .map((s) => s.trim())
    .filter((s) => /[\p{L}]/u.test(s));
}

/** Clauses of a sentence: parts joined by a contrast ("but", "while", "whereas", "although", "though", "yet"), a semicolon or a dash. */
export function clausesOf(sentence: string): string[] {
  return sentence
    .split(/\s*;\s*|\s+[—–]\s+|\s+-\s+|,?\s+(?:but|while|whereas|although|though|yet|however)\s+/iu)
    .map((c) => c.trim())
    .filter((c) => /[\p{L}]/u.test(c));
}

export const round4 = (score: number) => Math.round(score * 10_000) / 10_000;

/**
 * One score per ticker of the article. For each symbol, the sentences of the summary and body
 * that name it are scored with the headline model and averaged; in a sentence that names several
 * instruments ("Apple rallies while Samsung slides"), only the clauses that name the symbol count,
 * so each side gets its own half. A symbol only the headline (or the feed's ticker list) names
 * takes the article's score: the headline is about it.
 */
export function scoreTickers(
  article: { summary: string; body: string },
  symbols: readonly string[],
  matcher: TickerMatcher,
  model: SentimentModel,
  articleScore: number,
): TickerSentiment[] {
  if (symbols.length === 0) return [];
  const texts = new Map<string, string[]>(symbols.map((s) => [s, []]));
  for (const sentence of [...sentencesOf(article.summary), ...sentencesOf(article.body)]) {
    const named = matcher.match(sentence).filter((s) => texts.has(s));
    if (named.length === 0) continue;
    const clauses = named.length > 1 ? clausesOf(sentence).map((clause) => ({ clause, named: matcher.match(clause) })) : [];
    for (const symbol of named) {
      const own = clauses.filter((c) => c.named.includes(symbol)).map((c) => c.clause);
      texts.get(symbol)!.push(...(own.length ? own : [sentence]));
    }
  }
  return symbols.map((symbol) => {
    const parts = texts.get(symbol)!;
    const score = parts.length ? parts.reduce((sum, text) => sum + model.score(text), 0) / parts.length : articleScore;
    return { symbol, score: round4(score) };
  });
}
