// Command latch does by hand what the Latch packages do in code: find which
// certificate a device should pin for an integrator's API and check a
// transport policy (tlspolicy), make and rotate token keys and issue,
// inspect, verify and revoke API tokens (token), make sealing and signing
// keys and seal (signed or not) and open (sealedbox), wrap and unwrap
// private keys under an end-to-end key (sealedbox/e2e), enroll
// TOTP keys and compute and check their codes (totp), and make a device's
// setup code and pairing verification record (pairing). It has no logic of
// its own beyond presenting
// what those packages decide.
//
// Install it with
//
//	go install github.com/latchsec/latch/cmd/latch@latest
//
// # Commands
//
// Certificate pins and transport policies:
//
//	latch tls pin https://api.example.com
//	latch tls check --policy policy.json https://api.example.com/v1/status
//
// tls pin connects without trusting the server, prints the chain it sends
// (subject, issuer, validity, names, SHA-256 fingerprints of the
// certificate and of its public key), judges each certificate as the pin of
// a TlsPinnedCertificate policy and says until when that pin would hold,
// recommends the server's own certificate for a device on a local network
// and the issuing intermediate for a public API that renews its
// certificate, and prints the policy as JSON. tls check tries a policy file
// and explains a refusal in plain words (an expired certificate, a host
// name the certificate does not name, a chain not under the pin, ...).
//
// API tokens, on a JWK Set file:
//
//	latch token keygen --keys keys.json
//	latch token rotate --keys keys.json
//	latch token issue --keys keys.json --issuer https://platform.example --audience api --subject user-42 --scope data:read --expires 30d > token.txt
//	latch token inspect --keys keys.json token.txt
//	latch token verify --keys keys.json --issuer https://platform.example --audience api --revocations revoked.json --scope data:read token.txt
//	latch token revoke --revocations revoked.json --keys keys.json token.txt
//
// token revoke and token verify keep the revocation list in a file, or,
// with --redis, use the list a fleet of servers shares through
// token/redisrevoke. token verify refuses to run without one, unless
// --no-revocation-check says to (it then prints "revocation not checked" on
// standard error): a revoked token would pass. No token command prints key
// material, and no error quotes a token, a key or a secret, whatever was
// mistyped where.
//
// Sealing (HPKE, MLKEM768X25519 by default):
//
//	latch seal keygen --private integration.key > integration.pub
//	latch seal seal --to integration.pub --context integration/42/request/7 < request.json > request.sealed
//	latch seal open --key integration.key --context integration/42/request/7 < request.sealed
//	latch seal wrap --e2e e2e.key --key integration.key > integration.wrapped
//	latch seal unwrap --e2e e2e.key --public integration.pub --out integration.key < integration.wrapped
//
// Keys and wrapped keys are text with a prefix that names them and a
// checksum: public and private keys latch_pk_... and latch_sk_..., the
// end-to-end key latch_e2e_..., a wrapped private key latch_wk_...
// (sealedbox's and sealedbox/e2e's text forms, each package's FORMAT.md).
// Envelopes are binary, or base64
// with --base64.
//
// Signed sealing (ML-DSA-65 and Ed25519 by default): the signer makes a
// signing key and publishes the verifying key; the recipient opens with the
// verifying keys it trusts and is told which one signed:
//
//	latch sign keygen --private integrator.sigk > integrator.vk
//	latch seal seal --to integration.pub --sign integrator.sigk --context integration/42/request/7 < request.json > request.sealed
//	latch seal open --key integration.key --signer integrator.vk --context integration/42/request/7 < request.sealed
//
// An integrator publishes its key set and signs and seals its request
// definitions for the person's app (package integrator's signed requests):
//
//	latch sign keyset --key integrator.vk --valid 365d > latch-integrator-keys
//	latch sign request --to integration.pub --sign integrator.sigk --integration in_7 --request rq_42 --version 3 < request.json > request.sealed
//
// TOTP (RFC 6238):
//
//	latch totp enroll --issuer Acme --account alice@example.com --out alice.totp
//	latch totp code --key alice.totp
//	echo 287082 | latch totp verify --key alice.totp
//
// Pairing (SPAKE2+ with ML-KEM-768), at manufacture:
//
//	latch pair provision --device-id dev-0001 --record dev-0001.record --code dev-0001.code --qr dev-0001.png
//
// pair provision writes the device's verification record (for the device)
// and its setup code, printed form and QR payload, and with --qr a PNG of
// its QR code (for the label only).
//
// # Conventions
//
// Every command takes --help, which shows its flags and an example. The exit
// code is 0 when the command did what was asked, 1 when it failed (a file,
// a key, a server or a check), with the reason in one line on standard
// error, and 2 when the command line is wrong. Secrets (token keys, tokens,
// private, end-to-end and signing keys, TOTP keys and codes) are read from files or
// standard input, never from flags that would land in shell history, and key
// files are written with mode 0600 and never overwritten (token rotate
// replaces its key set file atomically, keeping its mode). No command prints
// token keys. Commands whose output a script would parse take --json.
//
// Flags may come before, between or after the arguments, so a command can
// be finished with the flag one forgot:
//
//	latch token verify token.txt --keys keys.json --issuer https://platform.example --audience api --no-revocation-check
//
// A flag that takes a value takes the next argument whatever it looks
// like; after --, every argument is an argument, even one that begins with
// a dash. The flags age users type most have age's short forms: -o for
// --out, -r for --to (the recipient's public key), -i for seal open's
// --key (the identity that opens) and -a for --base64 (age's armor, for
// envelopes); --help shows them beside their long form. latch --version
// (or latch version) prints the module version latch was built from (the
// tag or pseudo-version go install records), "(devel)" when the build has
// none (a build from a checkout with -buildvcs=false, or go run).
//
// Commands that judge time (certificate validity, token expiry, TOTP steps)
// take --now, an RFC 3339 time to judge at instead of the clock's: tests use
// it, and so can anyone reproducing a past judgement.
package main
