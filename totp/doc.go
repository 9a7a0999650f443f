// Package totp is the second factor of sign-in: time-based one-time
// passwords (TOTP, RFC 6238) from any authenticator app. Create one
// [Authenticator] with [New]; call [Authenticator.Enroll] to give a person a
// key (a QR code to scan), [Authenticator.Confirm] with the first code their
// app shows, and [Authenticator.Verify] with a code at each sign-in:
//
//	a, err := totp.New(totp.Config{Issuer: "Acme", Store: store, EncryptionKeys: keys})
//	key, err := a.Enroll(ctx, userID, email)     // show key.QRCode(256)
//	err = a.Confirm(ctx, userID, firstCode)       // the enrollment is active
//	err = a.Verify(ctx, userID, code)             // nil: signed in
//
// Any error from Verify means the person is not signed in. Show them
// [ErrRefused]'s message, whatever the reason; the reason ([ErrInvalidCode],
// [ErrReplayed], [ErrThrottled], ...) is for the server's logs, through
// [errors.Is], and a [*RefusedError] carries the end of a lockout.
// [Authenticator.RecoveryCodes] gives the person single-use codes for when
// the phone is lost. An enrollment not confirmed within
// Config.EnrollmentTimeout (15 minutes by default) expires: Confirm refuses
// it ([ErrEnrollmentExpired]), and Enroll gives a new key. To move to a new
// phone, [Authenticator.Reenroll] gives a new key that replaces the old one
// only when [Authenticator.ConfirmReenroll] gets one of its codes; until
// then the old key keeps working.
//
// # What Verify does
//
//   - Accepts only the enrollment's number of ASCII digits; the spaces apps
//     show inside codes are ignored; anything else is [ErrMalformedCode],
//     which is not counted as a guess. Codes are compared in constant time.
//   - Looks at the expected time step (30 s steps from the Unix epoch) and
//     one step either side (Config.Window, at most 4), so a code typed just
//     as it changes, or on a device a little off, still works.
//   - Accepts each time step at most once per account (RFC 6238 §5.2): the
//     highest accepted step is stored, and any code of that step or an
//     earlier one is [ErrReplayed], even inside the window. A code seen
//     over a shoulder or phished cannot be used once the person has used
//     it; this also means one sign-in per account per 30 s.
//   - Tracks clock drift (RFC 6238 §6): the offset of the step accepted
//     last is stored, and the next window is centred on it, within
//     Config.MaxDrift steps (2 by default, at most 10). The window stays
//     2·Window+1 steps wide wherever it is centred.
//   - Throttles guessing (RFC 4226 §7.3): after Config.MaxFailures wrong
//     codes in a row (5 by default) the account is locked for
//     Config.Lockout (1 minute), doubling with each further wrong code up
//     to Config.MaxLockout (1 hour). While locked, every code is refused
//     with [ErrThrottled] and not even looked at, and such attempts neither
//     count nor extend the lockout. A right code resets the count. Wrong
//     recovery codes count the same. With the defaults an attacker gets
//     about 30 guesses a day at three codes in a million each.
//
// # Storage
//
// The per-account [Record] lives in a [Store]: [MemoryStore] for one
// server, totp/redisstore for a fleet, or your own for your database, whose
// tests call totp/storetest's Run to check the contract. Every change is a
// compare-and-swap on the record's version, so servers sharing a store
// never lose each other's writes: of any number of concurrent Verify calls
// with the same valid code, on any number of servers, exactly one
// succeeds, and every wrong code is counted.
//
// The record holds no secret in the clear. The TOTP secret is encrypted
// at rest with AES-256-GCM under the first of Config.EncryptionKeys, with
// the key's id in the encrypted bytes and the account id, algorithm and
// digits as additional data, so an encrypted secret moved into another
// account's record does not decrypt ([ErrSecretUnreadable]). To rotate, put
// a new key first and keep the old ones: each record is re-encrypted with
// the new key at its next success.
// Recovery codes are stored as SHA-256 hashes (bound to the account); with
// 80 random bits each, a stolen hash cannot be inverted.
//
// # Threat model and the caller's duties
//
// TOTP protects sign-in against a stolen or guessed password. It does not
// protect against real-time phishing (a fake site relays the code within
// its 30 s) or malware on the person's device; use passkeys where that
// matters. What the package relies on the caller for:
//
//   - Check the password first, and ask for the code only then; call
//     Enroll, Reenroll, RecoveryCodes and Unenroll only for a person who
//     is signed in, with the password asked again.
//   - Keep the encryption keys out of the store (a secrets manager or KMS),
//     32 bytes from crypto/rand each. Anyone holding a key and a record can
//     compute the person's codes.
//   - Serve the QR code and the recovery codes only to the person, once,
//     over TLS; do not log or cache them. Do not log submitted codes.
//   - Keep the server's clock right (NTP): the window is around it.
//   - A lockout can be triggered by anyone who knows an account id: that
//     is the price of stopping guessing. Alert on repeated lockouts.
//   - Use one Store for every server that verifies codes for an account;
//     servers with separate stores accept the same code once each.
//
// # Compatibility with authenticator apps
//
// Keys use what every app supports unless configured otherwise: HMAC-SHA1,
// 6 digits, 30 s steps, secrets of 160 bits (256 and 512 for SHA256 and
// SHA512, the sizes RFC 6238 uses). [Key.URI] writes the Google
// Authenticator key URI format with every parameter explicit:
//
//	otpauth://totp/Acme%20Co:alice%40example.com?secret=...&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30
//
// The issuer is both in the label and in the issuer parameter; every byte of
// the names but ASCII letters, digits and -._~ is percent-encoded, so
// parsers agree on them. Names may not contain a colon. Some parsers decode
// a URI twice (pyotp 2.6's parse_uri does), so issuer names with &, #, ?,
// = or + are misread by them: keep issuer names to letters, digits, spaces
// and dots. The codes and URIs are tested against oathtool, pyotp and
// otplib.
//
// [ParseKeyURI] reads key URIs made elsewhere, strictly: only totp, only
// 30 s, 6 or 8 digits, SHA1/SHA256/SHA512, secrets of at least 160 bits,
// no unknown or repeated parameters, an issuer parameter equal to the
// label's. A URI that asks for anything else is refused rather than
// half-understood.
//
// Recovery codes are 16 characters of Crockford's base32 in groups of four
// ("7k2q-9xbn-4hm0-vd3e"); case, spaces and hyphens do not matter, and i,
// l, o are read as 1, 1, 0.
//
// [Key.QRCode] (a PNG) and [Key.QRModules] (the same code as a grid of
// modules, for drawing it in a terminal) are the only parts that use a QR
// library (boombuler/barcode); codes are computed with HMAC (RFC 2104) over
// the standard library's SHA-1, SHA-256 and SHA-512 one-shot functions,
// checked against crypto/hmac in the tests, and integer arithmetic.
package totp
