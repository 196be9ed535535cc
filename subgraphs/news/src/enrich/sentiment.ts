import artefact from '../../data/sentiment-model.json' with { type: 'json' };

/**
 * The news sentiment model: a three-class logistic regression (negative, neutral, positive) over
 * binary unigrams and bigrams of the headline, trained offline by ml/sentiment/train.py with
 * scikit-learn and exported as JSON (data/sentiment-model.json). Scoring is a sum of weights and a
 * softmax; the score is P(positive) - P(negative), in [-1, 1].
 */
export const TOKENS_VERSION = 1;

export interface SentimentArtefact {
  format: string;
  model: string;
  version: string;
  tokensVersion: number;
  classes: string[];
  intercept: number[];
  weights: Record<string, number[]>;
}

export interface SentimentModel {
  /** The artefact's version (first 12 hex digits of the SHA-256 of its content). */
  version: string;
  /** P(positive) - P(negative) of the text, from -1 to 1. */
  score(text: string): number;
}

/**
 * The features, as ml/sentiment/train.py's tokens(): lower-case ASCII words with accents dropped,
 * digit runs as "0", then every adjacent pair joined by a space.
 */
export function tokens(text: string): string[] {
  const plain = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const words = (plain.match(/[a-z]+|[0-9]+/g) ?? []).map((w) => (w[0]! >= '0' && w[0]! <= '9' ? '0' : w));
  return [...words, ...words.slice(1).map((w, n) => `${words[n]} ${w}`)];
}

export function loadSentimentModel(model: SentimentArtefact = artefact as SentimentArtefact): SentimentModel {
  if (model.format !== 'analytica.sentiment-logreg.v1') throw new Error(`sentiment model: unknown format ${model.format}`);
  if (model.tokensVersion !== TOKENS_VERSION)
    throw new Error(`sentiment model ${model.version} was built for tokens v${model.tokensVersion}, this worker computes v${TOKENS_VERSION}`);
  const negative = model.classes.indexOf('negative');
  const positive = model.classes.indexOf('positive');
  if (negative < 0 || positive < 0 || model.intercept.length !== model.classes.length)
    throw new Error(`sentiment model ${model.version}: classes must include negative and positive`);
  const weights = new Map(Object.entries(model.weights));
  return {
    version: model.version,
    score(text) {
      const logits = [...model.intercept];
      for (const token of new Set(tokens(text))) {
        const w = weights.get(token);
        if (w) for (let k = 0; k < logits.length; k++) logits[k]! += w[k]!;
      }
      const max = Math.max(...logits);
      const exp = logits.map((z) => Math.exp(z - max));
      const total = exp.reduce((a, b) => a + b, 0);
      return (exp[positive]! - exp[negative]!) / total;
    },
  };
}
