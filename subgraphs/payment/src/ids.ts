/**
 * Ids here are UUIDs. Anything else cannot name a row, and is answered like an unknown id
 * rather than passed to PostgreSQL, which would reject it as a malformed uuid.
 */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
