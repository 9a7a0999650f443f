// Package platform is the example IoT cloud: the API server that people,
// integrators and devices talk to. Start one with [Start]; it serves HTTPS on
// a loopback port and keeps its state in an embedded SQLite database
// (modernc.org/sqlite, no cgo) in Config.StateDir.
//
// What it shows, and which Latch package does it:
//
//   - People sign up and sign in with a password, hashed with argon2id
//     (golang.org/x/crypto/argon2, parameters in [PasswordParams]), and a
//     TOTP code from an authenticator app (totp, with a [totp.Store] on
//     SQLite). Sign-in answers with a session token. Wrong passwords are
//     throttled per address, known or not: after 5 in a row the address is
//     locked for a minute, doubling up to an hour (429 with Retry-After);
//     wrong codes are throttled by totp itself. The key shown at sign-up
//     must be confirmed with a code within 15 minutes; after that, signing
//     in with the password shows a new key ([SignInResponse].Enroll). A
//     signed-in person makes ten recovery codes (POST /v1/recovery-codes,
//     the password asked again; shown once), each of which signs in once
//     in place of a code (POST /v1/signin/recovery), logged at warn level.
//     Moving to a new authenticator app (POST /v1/totp/reenroll, the
//     password again, then /v1/totp/reenroll/confirm with a code of the new
//     key) keeps the old app working until the new one is confirmed.
//   - API tokens (token): a person creates tokens with the scopes they need
//     (never more than their own), lists them by id and metadata, revokes
//     one, or signs out everywhere. Every API route sits behind
//     token.Middleware with the scopes it needs. The platform never stores
//     a token: only its id, owner, scopes, apps and times. One keyring,
//     stored sealed under the master key, encrypts every token (sessions,
//     API tokens, device secrets); [Platform.RotateTokenKey] and
//     [Platform.RetireTokenKey] change it, stored before it takes effect.
//   - Integrators authenticate with OAuth 2.0 at /oauth/token: the
//     client-credentials grant (RFC 6749 §4.4) issues them a token, and
//     token exchange (RFC 8693) narrows any token to fewer scopes.
//   - Integrations (sealedbox): the person's app stores a public key and a
//     wrapped private key; an integrator posts request definitions, which
//     the platform validates and seals to that public key the moment they
//     arrive. Only envelopes are stored, and no route returns a definition
//     in the clear: the platform cannot read them once sealed.
//   - Devices get an application key and secret (mqttauth: the secret is a
//     token bound to the owner and the device) and connect with them to the
//     platform's embedded MQTT broker (mochi-mqtt with mqttauth/mochi, on
//     TLS), where they may subscribe to their own rules topic and publish to
//     their own state topic only ([RulesTopic], [StateTopic]). The person's
//     app posts end-to-end messages, which the platform publishes to the
//     device's rules topic: it can neither read, alter nor replay them. The
//     same messages can be fetched over HTTPS (GET /v1/device/messages, long
//     polling, HTTP Basic with the key and secret) where MQTT is not an
//     option.
//   - A web console at /console/ ([Platform.ConsoleURL]): plain HTML and one
//     small script, no build step. Sign up with the TOTP QR code, sign in
//     with password and code, create a token by ticking scopes (shown once),
//     revoke tokens, see integrations and devices. __Host- cookies (Secure,
//     HttpOnly, SameSite=Strict), net/http's CrossOriginProtection and a
//     CSRF token on every form, and a strict Content-Security-Policy.
//   - One machine or a fleet: with Config.Redis the revocation list
//     (token/redisrevoke) and the TOTP records (totp/redisstore) are on
//     Redis; without it, in process and in SQLite. Redis is one server, a
//     primary managed by Sentinel or a Cluster; ParseRedisAddress reads the
//     three address forms (host:port, sentinel://host:port,…/name and
//     cluster://host:port,…) that examples/stack -redis takes. With
//     Sentinel or a Cluster, a revocation or an accepted TOTP code counts
//     only once a replica holds it, so a failover loses neither (see the
//     two packages' docs). The rest of the state
//     (accounts, token metadata, devices, the token keyring) stays in each
//     node's SQLite file: the example shows how the Latch parts share a
//     fleet's state, not a whole fleet; a real one keeps that state in a
//     shared database, and every node picks up a key change from it with
//     token.Keyring.Replace.
//   - Security events go to Config.Audit (log/slog): sign-up, sign-in,
//     refused codes, lockouts, tokens created and revoked, integrator
//     tokens, sealed requests, refused device connections (the broker logs
//     to the same logger). Never a password, code, token, secret or
//     definition.
//
// # Secrets at rest
//
// The database holds no secret in the clear. Passwords are argon2id hashes;
// integrator client secrets and device secrets are never stored (client
// secrets as SHA-256 hashes of 256 random bits; device secrets are tokens,
// verified by their key); TOTP secrets are sealed by package totp; the
// token keyring (a JWK Set) is encrypted with AES-256-GCM under a key
// derived from Config.MasterKey. Keep the master key out of the state
// directory in production (a KMS or a secrets manager): whoever holds it
// and the database can mint tokens. The demo in examples/stack keeps it in
// a file of its own with mode 0600.
package platform
