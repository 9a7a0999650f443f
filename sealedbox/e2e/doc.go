// Package e2e is the end-to-end key and what it protects: a private key
// wrapped for storage in the cloud, and messages between a person's app and
// devices relayed by the cloud, which can neither read nor change them.
//
// The end-to-end key is a [Key]: 256 bits that a person's app and devices
// share and nobody else has. The pairing package agrees one between an app
// and a device ([NewKey] takes its bytes); [GenerateKey] makes one at
// random. Store and send it only in its text form ("latch_e2e_...",
// [Key.MarshalText] and [ParseKey]), between the person's own devices.
//
// [WrapPrivateKey] encrypts a sealedbox private key under the end-to-end
// key and returns its text form ("latch_wk_mlkem768x25519_..."), for the
// cloud to store beside the public key; [UnwrapPrivateKey] takes that text
// and the stored public key back and returns the private key, after
// checking that the public key is its own. [NewSender] and [NewReceiver]
// are the two ends of an end-to-end channel: one direction, under one
// key and one context.
//
// In Latch, the person's app wraps the private key of each integration
// (sealedbox.GenerateKey) and uploads it with the public key; the cloud
// seals integrator requests to the public key; the app later downloads
// the wrapped key and the envelopes, unwraps, opens, and sends what it
// derived to the device as end-to-end messages through the platform's
// broker.
//
// # Threat model and the caller's duties
//
// The adversary is whoever can read or change what the cloud stores and
// relays (public keys, wrapped keys, envelopes, end-to-end messages): the
// operator, an insider, a compromised database, a stolen backup, today or
// years from now. Without the end-to-end key:
//
//   - It cannot read a wrapped key or a message, nor make one that opens:
//     each is XChaCha20-Poly1305 under the end-to-end key, and any change
//     to it fails to open ([ErrOpen]). A wrapped key does not say whose
//     private key it is beyond the key id of its public key.
//   - It can swap the stored public key for one of its own, to read
//     whatever is sealed to it from then on. [UnwrapPrivateKey] catches
//     that with [ErrKeyMismatch]: the wrapped key is bound to the key id of
//     its public key, and the unwrapped key must have exactly the public
//     key given. The app must unwrap with the public key as stored, each
//     time it fetches the pair, and raise the alarm on that error. It can
//     also swap a wrapped key for another of the same person's (both made
//     under the same end-to-end key); the public key check catches that
//     too, unless it swaps the public key along with it, which only gives
//     the person their own other key.
//   - It can drop, delay, replay or reorder messages. Each message carries
//     a sequence number; the receiver accepts one only if its number is
//     above the highest accepted so far, so a replayed, reordered or older
//     message is refused ([ErrReplay]); a dropped message is not detected.
//     The highest number is the caller's to keep: persist
//     [Receiver.Highest] before acting on a message, and pass it to
//     [NewReceiver] after a restart, or replays of everything since the
//     value restored will be accepted. The sender persists [Sender.Last]
//     in the same way.
//   - It can move a message from one channel to another, or send a
//     device's message back to it. A message opens only under the context
//     it was sealed with: name the device and the direction and kind of
//     message in the context. One channel (one key and context) has one
//     sender; give each sender its own context.
//   - It sees lengths, times and sequence numbers, which are not hidden.
//
// Whoever has the end-to-end key can do all of the above and more: keep it
// on the person's app and devices only, never send it through the cloud,
// and never log it. A [Key] prints as "e2e.Key(…)" with %v and every other
// verb, so that a log line does not leak it; errors never hold key
// material.
//
// Callers never supply nonces or randomness: keys and nonces come from
// crypto/rand. Failures are typed ([ErrOpen], [ErrKeyMismatch],
// [ErrReplay], [ErrTooLarge], [ErrInvalidKey]); a wrapped key or a message
// that was altered, or made under another key or context, fails with a
// message naming all those causes without telling which. No input panics.
// Plaintexts are at most 1 MiB; a message is 52 bytes longer than its
// plaintext, and a wrapped key is 114 bytes (174 or 182 characters as
// text).
//
// # Format compatibility
//
// The end-to-end key's text form, wrapped keys (binary and text) and
// messages are specified byte by byte in FORMAT.md, next to this file, with
// a worked example; they build on sealedbox's FORMAT.md (suites, key ids
// and the family of key text forms, with a checksum that catches typos and
// keys pasted in the wrong place). The tests check a JavaScript
// implementation written from the documents against this package, both
// ways. Every format starts with a magic and a version byte; this is
// version 1, and future versions of this package will keep reading it. The
// formats are those sealedbox had before this package was split from it:
// keys, wrapped keys and messages made then open here.
package e2e
