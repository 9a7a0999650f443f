// Package latch is the overview of Latch, the security layer of an IoT
// platform, its devices and the third parties that integrate with it. This
// package has no code; each job has a package of its own.
//
// # The system Latch secures
//
// Five parties, and what each one needs:
//
//   - The platform (cloud) issues API tokens to people and integrators and
//     verifies them on every request without storing them (token); lets a
//     person revoke a token at any time; runs the MQTT broker that devices
//     connect to (mqttauth); and stores integrators' API request
//     definitions only sealed, so that it cannot read them (sealedbox).
//   - A person signs in with a password and a TOTP code from an
//     authenticator app (totp) and creates tokens with the least privilege
//     they need (token).
//   - The app on the person's phone pairs with a new device over a local
//     link (BLE, a local access point), authenticated by the setup code on
//     the device's label, so that both hold an end-to-end key the cloud
//     never sees (pairing). It generates a key pair when an integration
//     is switched on, wraps the private key under an end-to-end key that only
//     the person's devices hold, and keeps the public key and the wrapped
//     private key in the cloud (sealedbox, sealedbox/e2e); later it
//     downloads sealed requests, opens them and hands them to the device
//     over an end-to-end channel (sealedbox/e2e). Where the integrator signs its requests, the app
//     accepts only what the integrator signed (integrator, sealedbox).
//   - The device (firmware) connects to the broker with an application key
//     and secret (mqttauth) and executes integrators' HTTP requests
//     (integrator) under one of four transport security levels
//     (tlspolicy); a credential it stores goes only where it was
//     delivered for.
//   - An integrator, a third party whose API the device calls, uploads its
//     request definitions to the platform, in the clear over TLS (the
//     platform seals them on arrival) or signed and sealed by itself, so
//     that the platform can neither read nor forge, alter, move or roll one
//     back (sealedbox, integrator).
//
// # Packages
//
//   - [github.com/latchsec/latch/token]: scoped API tokens whose claims are
//     encrypted into the token; issue, verify, narrow, revoke; HTTP
//     middleware.
//   - [github.com/latchsec/latch/totp]: the RFC 6238 second factor:
//     enrollment, verification that refuses replays and throttles guessing,
//     recovery codes.
//   - [github.com/latchsec/latch/sealedbox]: post-quantum hybrid public-key
//     sealing (HPKE) and signed sealing (ML-DSA-65 with Ed25519) so a
//     recipient knows who sealed.
//   - [github.com/latchsec/latch/sealedbox/e2e]: the end-to-end key that
//     only a person's app and devices hold, and what it protects: a
//     private key wrapped for the cloud to store, and messages between app
//     and device through a relay that can neither read, change nor replay
//     them.
//   - [github.com/latchsec/latch/tlspolicy]: the four transport security
//     levels (TlsWithCACheck, TlsPinnedCertificate, TlsAllowSelfSigned,
//     AllowHttp) as TLS configurations and HTTP clients, with certificate
//     pinning.
//   - [github.com/latchsec/latch/integrator]: the device side of an
//     integrator's API request: its definition, its OAuth 2.0 authorization
//     and its execution under a tlspolicy; stored credentials bound to
//     where they were delivered for; signed requests and integrators' key
//     sets.
//   - [github.com/latchsec/latch/pairing]: onboarding: app and device agree
//     on the end-to-end key over an untrusted local link, authenticated by
//     the device's setup code (SPAKE2+, RFC 9383, with ML-KEM-768).
//   - [github.com/latchsec/latch/mqttauth]: MQTT application keys and
//     secrets, the guard that checks them, topic ACLs, a broker hook and a
//     webhook.
//
// Packages that run on devices (tlspolicy, integrator, sealedbox,
// sealedbox/e2e, pairing) import no JOSE library, broker or database
// client: beside the standard library and golang.org/x they use only
// circl's ML-DSA (sealedbox) and filippo.io/nistec and bigmod (pairing).
// They build for linux/arm, linux/arm64 and linux/mipsle.
//
// Each package's documentation is its manual: what it does and which call to
// use first, the threat model and the caller's duties, and the formats it
// reads and writes.
package latch
