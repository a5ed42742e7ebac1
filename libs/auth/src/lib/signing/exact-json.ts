import { isLosslessNumber, parse, stringify, type LosslessNumber } from 'lossless-json';

/** A JSON number kept as the sender wrote it (lossless-json's `LosslessNumber`). */
export type ExactNumber = LosslessNumber;

/**
 * Parses JSON keeping every number as its literal text. `JSON.parse` turns
 * Python's `85.0` into `85` and rounds integers beyond 2^53, so a signature
 * computed over the sender's numbers could no longer be checked.
 */
export function parseExactJson(text: string): unknown {
  return parse(text);
}

/** Serialises a value that may hold {@link ExactNumber}s, writing each one as it was received. */
export function stringifyExactJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value cannot be serialised as JSON');
  return text;
}

/** Whether a value is an {@link ExactNumber}. */
export function isExactNumber(value: unknown): value is ExactNumber {
  return isLosslessNumber(value);
}
