// Package sealedbox seals data to a public key so that only the holder of
// the private key can read it, and, where the recipient must know who
// sealed, signs it as it seals.
//
// Make a key pair with [GenerateKey], give the public key to whoever will
// seal, and keep the private key wrapped under the end-to-end key
// (sealedbox/e2e's WrapPrivateKey) wherever is convenient. [Seal] makes an
// envelope from a plaintext, the public key and a context that names where
// the envelope will be stored; [Open] takes the private key, the envelope
// and the same context and returns the plaintext. The end-to-end key, the
// wrapped private key and the messages between a person's app and devices
// are package sealedbox/e2e's.
//
// Where the recipient must know who sealed, the sender signs as it seals:
// [GenerateSigningKey] makes a signing key, whose [VerifyingKey] the sender
// publishes; [SealSigned] signs and seals; [OpenSigned] opens, checks the
// signature against the verifying keys the recipient trusts, and returns
// the plaintext and the signer's key id.
//
// In Latch, the person's app generates the key pair when an integration is
// switched on and stores the public key and the wrapped private key in the
// cloud; the cloud seals every integrator request before storing it, or the
// integrator signs and seals it itself ([SealSigned]); the app unwraps the
// private key, opens the requests, and sends what it derives from them to
// the device over the end-to-end channel (sealedbox/e2e).
//
// # Suites
//
// Envelopes are HPKE (RFC 9180) in base mode, from crypto/hpke, with
// HKDF-SHA256 and ChaCha20-Poly1305. Use the default, [MLKEM768X25519]: the
// hybrid KEM MLKEM768-X25519 (X-Wing) keeps an envelope confidential as
// long as either ML-KEM-768 or X25519 is unbroken. Sealed requests sit in
// cloud storage for years, and a copy of that storage taken today can be
// kept until a quantum computer can break X25519 ("harvest now, decrypt
// later"); ML-KEM-768 is what stands in the way.
//
// [X25519] saves 1088 bytes per envelope and 1184 per public key, and its
// operations are faster. It is acceptable where the plaintext stops
// mattering well before a quantum computer able to break X25519 may exist:
// short-lived data, or envelopes that are deleted soon after they are
// opened. Do not pick it for stored integrator requests that carry
// long-lived credentials.
//
// # Threat model and the caller's duties
//
// The adversary is whoever can read or change what the cloud stores and
// relays (public keys, envelopes, and the wrapped private keys and
// end-to-end messages of sealedbox/e2e, whose documentation covers them):
// the operator, an insider, a compromised database, a stolen backup, today
// or years from now. Against it:
//
//   - It cannot read envelopes: it has no private key, which it stores
//     only wrapped under an end-to-end key it does not have. The party
//     that seals sees the plaintext when it seals; sealing protects it
//     from then on, in storage.
//   - An envelope opens only under the context it was sealed with. Pass as
//     context what identifies the place it is stored (such as the
//     integration id and the record id), so that an envelope moved or
//     copied to another record fails to open. The context is not stored in
//     the envelope; keep it derivable from where the envelope is.
//   - Anyone with the public key can seal, the cloud included: an envelope
//     made by [Seal] proves nothing about who made it. HPKE base mode does
//     not authenticate the sender. Where the origin matters, the sender
//     uses [SealSigned] and the recipient [OpenSigned] (below).
//   - Swapping the stored public key for one of the adversary's own (to
//     read whatever is sealed from then on) is caught when the app unwraps
//     the private key (sealedbox/e2e's UnwrapPrivateKey fails with its
//     ErrKeyMismatch): the app must unwrap with the public key as stored,
//     each time it fetches the pair, and raise the alarm on that error.
//     Envelopes sealed to the swapped key fail to open with [ErrWrongKey].
//
// # Signed envelopes
//
// A signed envelope ([SealSigned]) is signed, then sealed. The signature
// covers the recipient's key id, the context and the plaintext, and it is
// inside the encryption. With the signer's verifying key obtained by a way
// the cloud does not control, the recipient knows:
//
//   - who made it: an envelope the cloud sealed itself, with the plaintext
//     it once saw or one it made up, is refused: unsigned ([ErrUnsigned]),
//     signed by a key the recipient does not trust ([ErrUnknownSigner]), or
//     with a signature that does not verify ([ErrBadSignature]);
//   - that it was made for this recipient and this context: a recipient
//     that re-seals what it opened to someone else, or a cloud that moves
//     an envelope to another record, produces an envelope that fails;
//   - nothing about freshness: a signed envelope replayed in its own place
//     (an older version of the same record) still opens. Put a version in
//     the plaintext and keep the highest one seen, as the integrator
//     package's signed requests do.
//
// [OpenSigned] trusts exactly the verifying keys it is given; which keys to
// trust, and how to get them, is the caller's decision and the whole of the
// guarantee. A signed envelope whose plaintext the cloud does not know is
// still confidential, and the signer's key id is inside the encryption;
// the envelope's length still shows the signature scheme, and whoever
// stores it knows who uploaded it.
//
// Use the default scheme, [MLDSA65Ed25519]: each signature is an ML-DSA-65
// (FIPS 204) and an Ed25519 signature of the same message, both must
// verify, and a forgery needs both broken. A signature of it adds 3407
// bytes to an envelope. [Ed25519] alone adds 98 bytes and falls to a
// quantum computer; choose it only where the size matters more than a
// forgery years from now. ML-DSA-65 is github.com/cloudflare/circl's
// (pure ML-DSA, hedged, empty context string); Ed25519 the standard
// library's.
//
// Callers never supply nonces or randomness: keys, encapsulations and
// nonces come from crypto/rand.
//
// Failures are typed. [Open] reports an envelope for another key with
// [ErrWrongKey], from the key id in the envelope and before any KEM work, so
// a holder of several keys can try them cheaply (or pick one with
// [EnvelopeKeyID]). Every other failure to open matches [ErrOpen]; an
// altered envelope or a wrong context gives nothing more than a message
// naming both, an input over the size cap also matches [ErrTooLarge], and
// the message says when the input is malformed or of an unknown version or
// suite. No input panics.
//
// Plaintexts are at most 1 MiB, and longer envelopes and messages are
// refused before any cryptographic work. An envelope is
// [Suite.Overhead] bytes longer than its plaintext (1178 for MLKEM768X25519,
// 90 for X25519), a signed envelope [SignatureScheme.Overhead] bytes longer
// still (3407 for MLDSA65Ed25519, 98 for Ed25519).
//
// # Format compatibility
//
// Envelopes, signed envelopes, keys and signing keys in binary and text
// form are specified byte by byte in FORMAT.md, next to this file, with
// worked examples (the end-to-end key, wrapped keys and messages in
// e2e/FORMAT.md), so that an app in another
// language can implement them; the tests check a JavaScript implementation
// written from it (on hpke-js, @noble/post-quantum's ML-DSA-65 and Node's
// Ed25519) against this package, both ways. Every format starts with a magic and a
// version byte; this is version 1. Future versions of this package will keep
// opening version 1 envelopes and reading version 1 keys.
//
// Keys have a text form for JSON fields and configuration, such as
// "latch_pk_mlkem768x25519_...", "latch_sk_x25519_...",
// "latch_vk_mldsa65ed25519_..." and "latch_sigk_ed25519_...": the prefix names
// the kind and the suite, and a checksum catches typos and keys pasted in
// the wrong place. Parsing then marshaling a key gives the same bytes. The
// end-to-end key ("latch_e2e_...") and wrapped private keys
// ("latch_wk_mlkem768x25519_...") of sealedbox/e2e have text forms of the
// same family.
package sealedbox
