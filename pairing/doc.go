// Package pairing is onboarding: an app and a device agree on a 256-bit
// end-to-end key over an untrusted local link (BLE, the device's Wi-Fi
// access point, a serial line), authenticated by the setup code printed on
// the device's label, and the app hands the device its credentials under
// that key.
//
// At manufacture, make a code with [NewSetupCode], print [SetupCode.Printed]
// (and a QR code of [SetupCode.QRPayload]) on the label, and store the
// device's verification record from [NewRecord] on the device; never store
// the code on the device. In the field, the device enters pairing mode
// with [Device.OpenWindow] when the person asks for it on the device, and
// runs [Device.Pair] on the link; the app reads the code with
// [ParseSetupCode] and runs [App.Pair] with the [Provisioning] payload.
// Both return the same key, an *e2e.Key of package sealedbox/e2e, ready for
// its private-key wrapping and messages; the device also gets the [Provisioning] payload (application
// key and secret, platform URL, and optional Settings such as its identity
// at the platform). `latch pair provision` makes the code and the record
// from the command line; examples/device.Onboard and
// examples/app.Phone.PairDevice show both sides over a local socket.
//
// # Protocol
//
// The exchange is SPAKE2+ (RFC 9383) with the ciphersuite
// P256-SHA256-HKDF-HMAC-SHA256, the PAKE Matter uses for commissioning,
// with an ML-KEM-768 exchange mixed in. The app is RFC 9383's prover, the
// device its verifier. Seven frames:
//
//	1 app → device   hello     a fresh nonce
//	2 device → app   params    a fresh nonce, Argon2id salt and work factor,
//	                           device id, a fresh ML-KEM-768 encapsulation key
//	3 app → device   share     shareP = x*P + w0*M, the ML-KEM ciphertext
//	4 device → app   confirmV  shareV = y*P + w0*N, confirmV
//	5 app → device   confirmP  confirmP
//	6 app → device   payload   the provisioning payload, ChaCha20-Poly1305
//	7 device → app   done      HMAC over a label, under the new keys
//
// RFC 9383's Context is "latch-pairing/v1" followed by the SHA-256 of
// frames 1 and 2 and the ML-KEM ciphertext; idProver is empty; idVerifier
// is the device id. So K_main, and with it both confirmation MACs, cover
// the nonces, the work factor, the device id and the whole ML-KEM
// exchange. The keys of the session come from
// HKDF-SHA256(K_shared || ML-KEM shared secret, salt = SHA-256 of frames 1
// to 5, info = "latch-pairing/v1 keys"), 96 bytes: the end-to-end key, the
// payload key and the done key. The end-to-end key is therefore bound to
// the whole transcript and stays secret as long as either the P-256
// discrete logarithm or ML-KEM-768 holds: a recording of the link is
// useless to a future quantum computer, as long as ML-KEM-768 stands.
//
// Each side confirms before it uses the key: the app checks confirmV before
// it sends anything that depends on the code beyond shareP (which reveals
// nothing, below); the device checks confirmP before it opens the payload;
// the app returns the key only after the done frame proves that the device
// derived the same keys (including the ML-KEM secret) and accepted the
// payload. If the done frame is lost, the device is paired and the app is
// not; the person starts again.
//
// FORMAT.md, beside this file, writes the protocol down byte by byte for
// an app or a device in another language.
//
// # Frames
//
// A frame is a version byte (1), a type byte, a 2-byte big-endian length
// and that many bytes, at most 4096. Each message has an exact layout;
// each type travels in one direction only. A frame that is truncated (with
// io.ErrUnexpectedEOF), announces too much (nothing more is read), comes
// out of order, replayed into another step or reflected back to its sender
// ([ErrMalformed] for all three), or has another version
// ([ErrUnsupportedVersion]) ends the pairing. A replayed session fails key
// confirmation, because both sides' shares and the ML-KEM key are fresh.
// Every read and write runs under the caller's context and a step timeout
// (30 seconds by default); on a link with SetDeadline, such as a net.Conn,
// the deadline is set on the link, and on any other io.ReadWriter a step
// that times out leaves its read blocked until the caller closes the
// link. Either side may send an abort frame saying why it gives up; an
// abort is not authenticated, so it can only end a pairing that anyone on
// the link could end by cutting it.
//
// # Threat model
//
// The attacker controls the link: it can read, drop, change, replay and
// inject frames, pose as the device to the app and as the app to the
// device, and run sessions of its own; it does not know the code. Then:
//
//   - Without the code, the attacker cannot end a pairing with a key that
//     either side accepts; tampering with any frame fails key
//     confirmation or the payload's authentication ([ErrAuthentication]).
//   - Each session with the device tests at most one guess of the code,
//     and the device counts it in its [Store] before it answers
//     (after frame 3, before frame 4). A session that stops earlier tests
//     no guess and is not counted; a successful pairing resets the count.
//     Sessions on several links at once each count before they answer:
//     the count is read and written under one lock in the process, so the
//     limit holds against parallel sessions too.
//     With the default limit of 20 failed attempts and codes of 8 random
//     digits (10^8 values, fewer the 16 trivial ones refused), a guessing
//     attacker tests at most 20 codes between two successful pairings (or
//     resets): it succeeds with probability at most 20/(10^8 - 16), about
//     1 in 5 million, per pairing the owner makes; once it has used the
//     20, the device pairs with no one until [Device.ResetAttempts]. Over
//     the device's life the bound is 20 guesses per successful pairing,
//     about 1 in 5 million times the number of pairings. Posing as the
//     device to the app gives the same: one guess per session the person
//     starts, and a person will not start millions.
//   - The device pairs only for 15 minutes ([DefaultWindow]) after the
//     person put it in pairing mode and stops after a success. The counter
//     and the window live in the store, so cutting the power does not
//     reset them; a clock that goes back before the window opened closes
//     the window.
//   - Nothing that crosses the link allows an offline dictionary attack
//     (RFC 9383, section 4 and its security proof): shareP = x*P + w0*M and
//     shareV = y*P + w0*N are uniformly random points whatever w0 is,
//     because x and y are uniformly random and secret, so the shares say
//     nothing about the code. The confirmation MACs depend on Z and V,
//     which only someone who knows x, or y, or w1 can compute (the
//     computational Diffie-Hellman problem on P-256). An attacker who ran
//     a session with a guess learns whether that one guess was right, and
//     nothing that helps with another guess.
//   - A recording of the link and a future break of the P-256 discrete
//     logarithm (a quantum computer) do not give the end-to-end key, the
//     payload or anything under them: they all come from the ML-KEM-768
//     secret as well. Such an attacker can, however, find the setup code
//     from the recording by an offline search (10^8 codes, one Argon2id
//     each: the discrete logarithm of shareP gives x for every guess of
//     w0, and confirmV tells the right one), and then pair with the device
//     whenever its window opens again. Against that future, a device
//     that may be paired again needs a code that is not the one recorded.
//   - The device stores w0 and L = w1*P, not the code and not w1. Someone
//     who reads the record cannot pair as the app (that needs w1, RFC 9383
//     section 4), but can test guesses offline at the cost of one Argon2id
//     per guess; with 10^8 codes that is feasible for a determined
//     attacker, so protect the record like a key and give each device its
//     own code. Whoever holds the device's record can pose as the device.
//   - Not covered: an attacker who reads the label; a compromised app or
//     device; denial of service on the link; the attempt limit is a lever
//     for locking a device until its reset, which needs physical access.
//
// The end-to-end key is returned to the caller as an *e2e.Key, which prints
// as "e2e.Key(…)" and goes to storage only through its text form
// ("latch_e2e_..."); it never leaves the two sides, and the cloud never
// sees it.
//
// # Password hashing
//
// RFC 9383 leaves the password hash to the application (Matter uses
// PBKDF2-SHA256). This package uses Argon2id (RFC 9106, from
// golang.org/x/crypto/argon2), which is memory-hard, so a leaked record
// costs a guesser memory as well as time per guess; the input is RFC 9383's
// len(code) || code || len(idProver) || idProver || len(idVerifier) ||
// idVerifier, the output 80 bytes, w0s and w1s of 40 bytes each reduced
// modulo the group order in constant time (filippo.io/bigmod). The default
// is 64 MiB and 3 passes ([DefaultKDF]). Only the app and the
// manufacturing step run it, never the device. The device sends its salt
// and work factor in frame 2, so someone posing as a device could ask the
// app for any work: the app refuses more than 256 MiB, 10 passes or 4
// lanes ([ErrWorkFactor]) before hashing anything. Both the app and
// [NewRecord] also refuse less than 8 MiB or one pass.
//
// # Setup codes
//
// 8 random decimal digits from crypto/rand, never one digit repeated or an
// ascending or descending run. The printed form adds a Verhoeff check
// digit, which catches every single mistyped digit and every swap of two
// adjacent digits (the Luhn digit misses 09/90), so a typo is refused by
// [ParseSetupCode] with [ErrCheckDigit] before it costs an attempt. The QR
// payload is "LATCH:PAIR:1:" followed by the 9 digits, all in the QR
// alphanumeric set.
//
// # The device's duties
//
//   - Keep the record readable by the pairing process only.
//   - Give [Device] a [Store] whose Save is durable when it returns
//     ([FileStore] writes, syncs, renames and syncs the directory);
//     without one, a power cut resets the attempt counter. Run every
//     pairing of one device in one process: the lock that makes parallel
//     sessions count one after another is the process's. A state that
//     cannot be read fails closed (no pairing, no window) until
//     [Device.ResetAttempts] replaces it.
//   - Call [Device.OpenWindow] only on a physical action on the device, and
//     [Device.ResetAttempts] only on a factory reset.
//   - Keep the key from [DeviceResult] as you keep the record.
//
// # Implementations and checks
//
// P-256 arithmetic is filippo.io/nistec (the standard library's own), and
// ML-KEM-768 is crypto/mlkem. Every value of RFC 9383's test vectors for
// this ciphersuite (w0, w1, L, X, Y, Z, V, TT, K_main, K_confirmP,
// K_confirmV, both MACs, K_shared) is reproduced from testdata/rfc9383.json,
// and an independent implementation of the RFC's formulas on
// @noble/curves' P-256 under Node checks the same values and the final
// key derivation for random inputs (interop_test.go). Device-side: this
// package builds for linux/arm, arm64 and mipsle and imports no JOSE
// library, broker or database client.
package pairing
