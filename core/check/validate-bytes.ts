// Validation of a file's bytes, for callers that read files themselves (the CLI, tests): decodes
// UTF-8 (dropping a BOM), reports the first byte that is not UTF-8, then validates the text.
import type { Diagnostic } from "../model/diagnostic";
import { validate, type ValidateOptions, type ValidationResult } from "./validate";

export interface DecodedText {
  readonly text: string;
  /** Offset in `text` of the first byte that was not UTF-8 (decoded as U+FFFD). */
  readonly invalidAt?: number;
}

export function decodeUtf8(bytes: Uint8Array): DecodedText {
  const body =
    bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(body) };
  } catch {
    // Find the first bad byte by decoding the longest valid prefix.
    let lo = 0;
    let hi = body.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    const prefix = new TextDecoder("utf-8").decode(body.subarray(0, lo), { stream: true });
    return { text: new TextDecoder("utf-8").decode(body), invalidAt: prefix.length };
  }
}

export interface BytesValidationResult extends ValidationResult {
  readonly text: string;
}

export function validateBytes(
  bytes: Uint8Array,
  options: ValidateOptions = {},
): BytesValidationResult {
  const decoded = decodeUtf8(bytes);
  const result = validate(decoded.text, options);
  if (decoded.invalidAt === undefined) return { ...result, text: decoded.text };
  const at = decoded.invalidAt;
  const encoding: Diagnostic = {
    code: "KEEL002",
    severity: "error",
    message: "the file is not valid UTF-8 (the bad bytes are shown as \uFFFD): save it as UTF-8",
    start: at,
    end: Math.min(at + 1, decoded.text.length),
  };
  return { ...result, text: decoded.text, diagnostics: [encoding, ...result.diagnostics] };
}
