// Package latch is the overview of Latch, the security layer of an IoT
// platform, its devices and the third parties that integrate with it. This
// package has no code; each job has a package of its own.
//
// # The system Latch secures
//
// Four parties, and what each one needs:
//
//   - The platform (cloud) issues API tokens to people and integrators and
//     verifies them on every request without storing them ([token]); lets a
//     person revoke a token at any time; runs the MQTT broker that devices
//     connect to ([mqttauth]); and stores integrators' API request
//     definitions only sealed, so that it cannot read them ([sealedbox]).
//   - A person signs in with a password and a TOTP code from an
//     authenticator app ([totp]) and creates tokens with the least privilege
//     they need ([token]).
//   - The app on the person's phone generates a key pair when an integration
//     is switched on, wraps the private key under an end-to-end key that only
//     the person's devices hold, and keeps the public key and the wrapped
//     private key in the cloud; later it downloads sealed requests, opens
//     them and hands them to the device over an end-to-end channel
//     ([sealedbox]).
//   - The device (firmware) connects to the broker with an application key
//     and secret ([mqttauth]) and executes integrators' HTTP requests
//     ([integrator]) under one of four transport security levels
//     ([tlspolicy]).
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
//     sealing (HPKE) and private-key wrapping under an end-to-end key.
//   - [github.com/latchsec/latch/tlspolicy]: the four transport security
//     levels (TlsWithCACheck, TlsPinnedCertificate, TlsAllowSelfSigned,
//     AllowHttp) as TLS configurations and HTTP clients, with certificate
//     pinning.
//   - [github.com/latchsec/latch/integrator]: the device side of an
//     integrator's API request: its definition, its OAuth 2.0 authorization
//     and its execution under a tlspolicy.
//   - [github.com/latchsec/latch/mqttauth]: MQTT application keys and
//     secrets, the verifier, topic ACLs, a broker hook and a webhook.
//
// Packages that run on devices (tlspolicy, integrator, sealedbox) use only
// the standard library and golang.org/x, and build for linux/arm,
// linux/arm64 and linux/mipsle.
//
// Each package's documentation is its manual: what it does and which call to
// use first, the threat model and the caller's duties, and the formats it
// reads and writes.
package latch
