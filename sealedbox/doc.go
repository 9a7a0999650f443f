// Package sealedbox seals data to a public key so that only the holder of
// the private key can read it, keeps that private key wrapped under an
// end-to-end key, and carries messages between the holders of the
// end-to-end key through a relay that can neither read nor change them.
//
// Make a key pair with [GenerateKey], give the public key to whoever will
// seal, and keep the private key, wrapped with [WrapPrivateKey], wherever
// is convenient. [Seal] makes an envelope from a plaintext, the public key
// and a context that names where the envelope will be stored; [Open] takes
// the private key, the envelope and the same context and returns the
// plaintext. [UnwrapPrivateKey] gets the private key back and checks it
// against the stored public key. [NewMessageSender] and
// [NewMessageReceiver] are the two ends of an end-to-end channel.
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
// the device over the end-to-end channel.
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
// relays (public keys, wrapped keys, envelopes, end-to-end messages): the
// operator, an insider, a compromised database, a stolen backup, today or
// years from now. Against it:
//
//   - It cannot read envelopes (it has no private key) nor wrapped keys and
//     messages (it has no end-to-end key). The party that seals sees the
//     plaintext when it seals; sealing protects it from then on, in
//     storage.
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
//     read whatever is sealed from then on) is caught by
//     [UnwrapPrivateKey], which fails with [ErrKeyMismatch]: the app must
//     unwrap with the public key as stored, each time it fetches the pair,
//     and raise the alarm on that error. Envelopes sealed to the swapped
//     key fail to open with [ErrWrongKey].
//   - End-to-end messages carry a sequence number. The receiver accepts a
//     message only if its number is above the highest one accepted so far,
//     so a replayed, reordered or older message is refused ([ErrReplay]);
//     a dropped message is not detected. The highest number is the caller's
//     to keep: persist [MessageReceiver.Highest] before acting on a message,
//     and pass it to [NewMessageReceiver] after a restart, or replays of
//     everything since the value you restored will be accepted. The sender
//     persists [MessageSender.Last] in the same way. One channel (one
//     end-to-end key and context) has one sender; give each sender its own
//     context.
//   - The end-to-end key protects every wrapped key and every message. Make
//     it with [GenerateE2EKey], keep it on the person's devices only, and
//     never send it through the cloud.
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
// still (3407 for MLDSA65Ed25519, 98 for Ed25519), a wrapped key is 114
// bytes, a message 52 bytes longer than its plaintext.
//
// # Format compatibility
//
// Envelopes, signed envelopes, keys and signing keys in binary and text
// form, wrapped keys and messages are specified byte by byte in FORMAT.md,
// next to this file, with worked examples, so that an app in another
// language can implement them; the tests check a JavaScript implementation
// written from it (on hpke-js, @noble/post-quantum's ML-DSA-65 and Node's
// Ed25519) against this package, both ways. Every format starts with a magic and a
// version byte; this is version 1. Future versions of this package will keep
// opening version 1 envelopes and reading version 1 keys and wrapped keys.
//
// Keys have a text form for JSON fields and configuration, such as
// "latch_pk_mlkem768x25519_...", "latch_sk_x25519_...",
// "latch_vk_mldsa65ed25519_..." and "latch_sigk_ed25519_...": the prefix names
// the kind and the suite, and a checksum catches typos and keys pasted in
// the wrong place. Parsing then marshaling a key gives the same bytes. The
// end-to-end key and wrapped private keys, which the API gives as bytes,
// have text forms of the same family: [E2EKeyText] ("latch_e2e_...") and
// [ParseE2EKey], [WrappedKeyText] ("latch_wk_mlkem768x25519_...") and
// [ParseWrappedKey].
package sealedbox
