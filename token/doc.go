// Package token issues and verifies the platform's API tokens: scoped,
// encrypted, self-contained tokens that a server verifies without storing
// them. Make tokens with [Issuer.Issue], check them with [Verifier.Verify]
// (or put [Middleware] in front of an HTTP API), hand out narrower tokens
// with [Issuer.Narrow], and switch tokens off with [Issuer.Revoke] and a
// [Revocations] list. An Issuer and its Verifiers share one [Config]. Keys
// live in a [Keyring], saved and loaded as a JWK Set ([Keyring.JWKSet],
// [ParseKeyring]). Tools read a token's claims without judging it with
// [Config.Inspect], and keep a [MemoryRevocations] in a file through its JSON form.
//
// A token is a JWE (RFC 7516) whose payload is a JWT claims set (RFC 7519):
// who it belongs to (sub), what it grants (scope, as "resource:action"
// strings; see [ValidScope]), which applications it is limited to (app),
// when it ends (exp, optional: a token without exp lives until it is
// revoked) and a random 128-bit ID (jti) by which it is revoked. The claims
// are encrypted and authenticated with AES-256-GCM under a key of the
// keyring: a holder can neither read nor change them.
//
//	keys, err := token.ParseKeyring(jwkSet) // or token.NewKeyring()
//	cfg := token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "api",
//		Prefix: "lt_", Revocations: revocations}
//
//	issuer := &token.Issuer{Config: cfg}
//	tok, issued, err := issuer.Issue(ctx, token.Claims{Subject: userID, Scopes: []string{"data:read"},
//		Expires: time.Now().Add(30 * 24 * time.Hour)}) // or NeverExpires: true, by name
//	// record issued.ID and issued.Expires (never tok); later: issuer.Revoke(ctx, issued)
//
//	verifier := &token.Verifier{Config: cfg}
//	claims, err := verifier.Verify(ctx, tok) // errors.Is(err, token.ErrInvalid) when refused
//
// # Threat model and the caller's duties
//
// A token is a bearer credential: whoever holds it has what it grants, until
// it expires or is revoked. The package defends the token itself; the
// caller keeps the rest of the promise.
//
//   - Keys are symmetric. Whoever holds a key of the keyring can both verify
//     and mint tokens with any claims, so every server that verifies tokens
//     is as trusted as the issuer. Keep the JWK Set in a secret store, give
//     it to those servers only, and use its keys for nothing else: the key
//     is what binds a token to this format and this platform.
//   - Rotate keys ([Keyring.Rotate]) on a schedule, and long before a key
//     has encrypted 2³² tokens: each token has a random 96-bit nonce, and
//     past that many the chance of a repeated nonce (which breaks AES-GCM for
//     that key) exceeds 2⁻³² (NIST SP 800-38D §8.3). Retire an old key
//     ([Keyring.Retire]) once its tokens have expired or may be invalidated;
//     retiring is the only way to end a leaked key's tokens.
//   - Give every token an expiry. Issue refuses claims without Expires
//     ([ErrNoExpiry]) unless NeverExpires says, by name, that the token is
//     to work until revoked (MQTT application secrets do): forgetting the
//     expiry never makes a token that works forever.
//   - Revocation is the off switch of a token without exp, and the only one
//     of a leaked token. Keep the ID and expiry of the claims Issue returns
//     (never the token) to revoke it later ([Issuer.Revoke]). Give every
//     Issuer and Verifier the same list, through their Config: one
//     [MemoryRevocations] for a single process, a shared list (such as
//     token/redisrevoke's) for a fleet. Verify reads the list from local
//     memory; a list that cannot vouch for its freshness fails verification
//     closed ([ErrRevocationUnavailable]). Per-subject revocation
//     ([Revocations.RevokeSubject], "sign out everywhere") is kept for ever,
//     since tokens without exp never end; revoking by ID is kept until the
//     token's expiry.
//   - Verify checks the token, its issuer and its audience, its validity
//     period and the revocation list. It does not know what a request wants:
//     check scopes ([Claims.HasScope], Middleware.Scopes) and applications
//     ([Claims.CheckApp], Middleware.App) for every request. Give each
//     service its own audience so a token for one cannot be used at another.
//   - Tell clients no more than "invalid token" (Middleware answers
//     error="invalid_token" and nothing else); the reason, for logs, is
//     under the error ([ErrExpired], [ErrRevoked], ...). Error messages
//     never contain a token, a part of one or key material.
//   - Send tokens only over TLS and only in the Authorization header:
//     tokens in URLs end up in logs and Referer headers, so Middleware
//     refuses them. Set Config.Prefix (such as "lt_") so that secret scanners
//     recognise leaked tokens.
//   - Servers' clocks must agree within [Leeway] (one minute), which every
//     verifier allows on exp, nbf and iat.
//   - Times in tokens are whole seconds. A subject revoked "before T"
//     loses tokens issued in T's second, even just after T.
//
// What the verifier refuses, before spending work on it: a token larger
// than 8 KiB (checked before any decoding), anything but
// canonical unpadded base64url, a header other than exactly alg "dir", enc
// "A256GCM" and a kid (no zip, jwk, jku, x5u, x5c, x5t, crit, cty, typ, or
// any other member), an encrypted-key part that is not empty, an IV other
// than 96 bits, a tag other than 128 bits, JSON with duplicate members (even
// spelt with escapes), invalid UTF-8 or lone surrogates, claims other than
// the documented ones or of other types (dates must be integers from 1970
// to 9999), more than 32 scopes, 16 application ids or 8
// narrowing steps. The parser is this package's own: JOSE
// libraries are lenient where a verifier must not be (they inflate zip,
// accept embedded keys, skip newlines in base64 and keep the last of
// duplicate JSON members).
//
// # Errors
//
// Every error the package returns matches one category with errors.Is,
// and a reason under it where there is one:
//
//   - [ErrInvalid]: Verify, Narrow, Inspect or [Claims.CheckApp] refused
//     the token; the reason is [ErrMalformed], [ErrUnknownKey],
//     [ErrDecrypt], [ErrExpired], [ErrNotYetValid], [ErrWrongIssuer],
//     [ErrWrongAudience], [ErrWrongApp], [ErrRevoked] or [ErrWidening].
//   - [ErrRevocationUnavailable]: the revocation list could not answer;
//     its own error is under it too.
//   - [ErrClaims]: Issue or Narrow cannot issue the claims; [ErrNoExpiry]
//     is the one reason with a name.
//   - [ErrKeySet]: ParseKeyring refused the document, with a
//     [*KeySetError] that says which key and why.
//
// Any other error is the server's: a misconfigured Issuer or Verifier, a
// keyring change that cannot be made, a revocation list's bad input.
//
// # Narrowing
//
// [Issuer.Narrow] turns a token into a child with a subset of its scopes
// and applications and an expiry no later than its own, so a person can hand
// an integrator less than they have. It never widens: asking for more fails
// with [ErrWidening]. The child carries its ancestors' IDs in a lineage
// claim, so revoking a token revokes everything narrowed from it.
//
// # Format compatibility
//
// Tokens are standard JWE compact serializations, so any JOSE library
// holding the key can decrypt one (jwx, npm jose and Python's jwcrypto are
// tested), and tokens those libraries make with the same header and claims
// verify. A token is
//
//	[prefix] BASE64URL(header) ".." BASE64URL(iv) "." BASE64URL(ciphertext) "." BASE64URL(tag)
//
// with header {"alg":"dir","enc":"A256GCM","kid":KID}; the AES-256-GCM
// additional data is the first part as written (RFC 7516 §5.1). The kid is
// 1 to 64 characters of A-Z a-z 0-9 "_-.~". The plaintext is a JSON object
// with exactly these members, in any order:
//
//	iss      string, 1-256 bytes, no control characters   required
//	sub      string, same rules                           required
//	aud      string, same rules (one audience, not an array) required
//	iat      integer seconds since 1970                   required
//	nbf      integer, not before iat                      required
//	exp      integer, after nbf                           optional: no exp, no expiry (NeverExpires)
//	jti      128 bits in base64url (22 characters)        required
//	scope    scopes separated by single spaces            required, 1-32 scopes
//	app      array of 1-16 application ids                optional: no app, no limit
//	lineage  array of jti, the original token first       optional, 1-8 ids
//
// Issue writes the members in this order, scopes and apps sorted. The key
// set is a JWK Set (RFC 7517) of "oct" keys of 256 bits, each with a kid,
// key_ops ["encrypt","decrypt"] for the one active key and ["decrypt"] for
// verify-only keys, and alg "dir" and use "enc" when present; the
// documents [Keyring.JWKSet] writes are read by jwx, jose and jwcrypto as
// they are. A new format would come with a new header value, never with a
// new meaning for this one.
package token
