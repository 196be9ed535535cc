// Edits of a subgraph's SDL text for the registry's tests: a change as a developer would make it,
// a field together with its description.

/** The SDL without one field of a type, its description (one line or several) included. */
export function withoutField(sdl: string, field: string): string {
  const next = sdl.replace(new RegExp(`\\n(?: {2}"""(?:(?!""")[\\s\\S])*"""\\n)? {2}${field.replace(/[()[\]!]/g, '\\$&')}\\n`), '\n');
  if (next === sdl) throw new Error(`the SDL has no field "${field}"`);
  return next;
}

/** User's key field in a subgraph's SDL (group 1: everything before it, its description included). */
export const USER_ID = /(type User\n {2}@key\(fields: "id"\)\n\{\n(?: {2}"""[^\n]*"""\n)? {2})id: ID!/;
