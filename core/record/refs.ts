// Value references. A record refers to a value (an input, an output, a resolved prompt) by the
// sha256 of its JSON text, and the text is stored once in blobs; a value whose JSON text is no
// longer than a hash is written into the reference itself, after "=", and never stored as a blob.
// Hashes are lowercase hex, so the two kinds cannot be confused.

/** The longest JSON text written inline: a sha256 in hex is 64 characters. */
export const INLINE_MAX = 64;

/** The reference of a short value's JSON text (at most INLINE_MAX characters). */
export function inlineRef(text: string): string {
  return `=${text}`;
}

/** The JSON text of an inline reference; undefined for a content hash. */
export function inlineValue(ref: string): string | undefined {
  return ref.startsWith("=") ? ref.slice(1) : undefined;
}
