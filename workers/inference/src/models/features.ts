/**
 * Features, computed exactly as ml/pipeline/features.py computes them for training: each function
 * has its Python twin of the same name. The parity tests feed both the same inputs (the fixtures
 * written by `npm run ml:train`) and compare. Change both or neither, and bump FEATURES_VERSION.
 */
export const FEATURES_VERSION = 1;

export function normalizePayee(payee: string): string {
  return payee
    .toLowerCase()
    .replace(/[^a-z]+/g, ' ')
    .trim();
}

const encoder = new TextEncoder();

/** 32-bit FNV-1a over the UTF-8 bytes. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function categoryTokens(payee: string, amountMinor: number, bookedAt: Date): string[] {
  const words = normalizePayee(payee)
    .split(' ')
    .filter((w) => w.length >= 2);
  const tokens: string[] = [];
  for (const w of words) {
    tokens.push(`w:${w}`);
    const padded = ` ${w} `;
    for (let i = 0; i + 3 <= padded.length; i++) tokens.push(`c:${padded.slice(i, i + 3)}`);
  }
  if (words.length >= 2) tokens.push(`b:${words[0]}_${words[1]}`);
  tokens.push(`sign:${amountMinor > 0 ? 'in' : 'out'}`);
  const major = Math.abs(amountMinor) / 100;
  tokens.push(`amt:${Math.min(14, Math.floor(Math.log2(major + 1)))}`);
  tokens.push(`dow:${(bookedAt.getUTCDay() + 6) % 7}`);
  const day = bookedAt.getUTCDate();
  tokens.push(`dom:${day <= 3 ? 'start' : day >= 26 ? 'end' : 'mid'}`);
  const hour = bookedAt.getUTCHours();
  tokens.push(`hour:${hour === 0 && bookedAt.getUTCMinutes() === 0 ? 'none' : Math.floor(hour / 4)}`);
  return tokens;
}

/** Token counts per bucket, scaled to unit length. */
export function hashedVector(tokens: readonly string[], hashBits: number): Map<number, number> {
  const counts = new Map<number, number>();
  const mask = hashBits >= 32 ? 0xffffffff : (1 << hashBits) - 1;
  for (const token of tokens) {
    const bucket = (fnv1a(token) & mask) >>> 0;
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  let sum = 0;
  for (const c of counts.values()) sum += c * c;
  const norm = Math.sqrt(sum);
  for (const [b, c] of counts) counts.set(b, c / norm);
  return counts;
}

// --- Anomaly features: from the user's history before the transaction ---

export const ANOMALY_FEATURES = [
  'log_amount',
  'category_count',
  'category_z',
  'payee_count',
  'payee_amount_dev',
  'payee_gap_hours',
  'duplicate',
  'hour',
  'hour_share',
  'user_count',
  'category_share',
] as const;
export const MAX_PAYEES = 500;

/**
 * What the detector remembers of one user: counts by hour of day, per category key the count,
 * mean and sum of squared deviations of log amounts (Welford), and per normalised payee the
 * count, mean log amount, last time (ms) and last amount (minor units).
 */
export interface Profile {
  n: number;
  hours: number[];
  categories: Record<string, [number, number, number]>;
  payees: Record<string, [number, number, number, number]>;
}

export function newProfile(): Profile {
  return { n: 0, hours: Array.from({ length: 24 }, () => 0), categories: {}, payees: {} };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export function anomalyFeatures(profile: Profile, categoryKey: string, payee: string, amountMinor: number, bookedAtMs: number): number[] {
  const la = Math.log1p(Math.abs(amountMinor) / 100);
  const cat = profile.categories[categoryKey];
  const catN = cat ? cat[0] : 0;
  let catZ = 0;
  if (cat && cat[0] >= 2) {
    const std = Math.sqrt(cat[2] / (cat[0] - 1));
    catZ = (la - cat[1]) / Math.max(std, 0.05);
  }
  const p = profile.payees[normalizePayee(payee)];
  let payeeN = 0;
  let payeeDev = 0;
  let gap = 10000;
  let duplicate = 0;
  if (p) {
    payeeN = p[0];
    payeeDev = la - p[1];
    gap = Math.min(Math.max(bookedAtMs - p[2], 0) / HOUR_MS, 10000);
    duplicate = Math.abs(bookedAtMs - p[2]) <= DAY_MS && amountMinor === p[3] ? 1 : 0;
  }
  const hour = Math.floor(bookedAtMs / HOUR_MS) % 24;
  const n = profile.n;
  const h = profile.hours;
  const hourShare = n > 0 ? (h[(hour + 23) % 24]! + h[hour]! + h[(hour + 1) % 24]!) / n : 0;
  return [la, Math.min(catN, 1000), catZ, Math.min(payeeN, 1000), payeeDev, gap, duplicate, hour, hourShare, Math.min(n, 10000), n > 0 ? catN / n : 0];
}

export function updateProfile(profile: Profile, categoryKey: string, payee: string, amountMinor: number, bookedAtMs: number): void {
  const la = Math.log1p(Math.abs(amountMinor) / 100);
  const cat = (profile.categories[categoryKey] ??= [0, 0, 0]);
  cat[0] += 1;
  const d = la - cat[1];
  cat[1] += d / cat[0];
  cat[2] += d * (la - cat[1]);
  const key = normalizePayee(payee);
  const p = (profile.payees[key] ??= [0, 0, 0, 0]);
  p[0] += 1;
  p[1] += (la - p[1]) / p[0];
  p[2] = bookedAtMs;
  p[3] = amountMinor;
  const keys = Object.keys(profile.payees);
  if (keys.length > MAX_PAYEES) {
    // Forget the payee seen longest ago (ties: the first in key order), as Python does.
    let oldest = keys[0]!;
    for (const k of keys) {
      const [, , t] = profile.payees[k]!;
      const [, , best] = profile.payees[oldest]!;
      if (t < best || (t === best && k < oldest)) oldest = k;
    }
    delete profile.payees[oldest];
  }
  profile.hours[Math.floor(bookedAtMs / HOUR_MS) % 24]! += 1;
  profile.n += 1;
}
