/**
 * The one rule every subject revocation follows ("revoke_subject", removing a
 * client, signing a person out everywhere): a revocation made at `atMs`
 * refuses every token of the subject whose `iat` is at most
 * `⌊atMs / 1000⌋ + clockSkewSeconds`, and returns the exclusive bound
 * (`iat < cutoff` is revoked) that is stored and compared.
 *
 * Two facts force the margin. `iat` has whole-second resolution, so a token
 * minted earlier in the revocation's own second carries that second; and the
 * verifier accepts an `iat` up to the clock skew ahead of its own clock, so a
 * token from an issuer whose clock runs ahead was still issued before the
 * revocation. The price: a token minted for the same subject afterwards is
 * accepted once its `iat` reaches the cutoff, at most `clockSkewSeconds + 1`
 * seconds after the revocation with the issuer's clock in step.
 */
export function subjectRevocationCutoff(atMs: number, clockSkewSeconds: number): number {
  return Math.floor(atMs / 1000) + clockSkewSeconds + 1;
}
