// Package platform is the example IoT cloud: the API server that people,
// integrators and devices talk to. Start one with [Start]; it serves HTTPS on
// a loopback port and keeps its state in an embedded SQLite database
// (modernc.org/sqlite, no cgo) in Config.StateDir. What its clients send
// and get (the JSON bodies, the scopes, the broker's topics) is package
// examples/api, which they import instead of this one, so that no client
// links the server.
//
// What it shows, and which Latch package does it:
//
//   - People sign up and sign in with a password, hashed with argon2id
//     (golang.org/x/crypto/argon2, parameters in [PasswordParams]), and a
//     TOTP code from an authenticator app (totp, with a [totp.Store] on
//     SQLite). Sign-in answers with a session token. The key shown at
//     sign-up must be confirmed with a code within 15 minutes; after that,
//     signing in with the password shows a new key
//     ([api.SignInResponse].Enroll). Password attempts are throttled per email
//     address, whether an account has it or not, and counted before the
//     password is hashed: the fifth attempt without a right password in
//     between locks the address for a minute, doubling with each further
//     one up to an hour (429 with Retry-After), and because the count comes
//     first, no more than five passwords are ever evaluated for an address
//     between locks, however many are sent at once. Wrong codes are
//     throttled by totp itself. A sign-in waiting for its code holds a
//     challenge for five minutes; one account holds at most five (a sixth
//     replaces its oldest), so no account can fill the pool of 10,000 that
//     everyone shares.
//   - Password hashing has a memory budget (Config.PasswordHashingMemory,
//     [DefaultPasswordHashingMemory] = 256 MiB, thirteen evaluations of 19
//     MiB at once): past it, sign-up, sign-in and the password asked again
//     answer 503 with Retry-After at once, and such an attempt is not
//     counted against its address. Size it to the memory the server can
//     give; it bounds what a flood of sign-ins costs, not how many arrive.
//   - The second factor is changed only with the second factor. A signed-in
//     person makes ten recovery codes (POST /v1/recovery-codes; shown
//     once), each of which signs in once in place of a code (POST
//     /v1/signin/recovery), logged at warn level; and moves to a new
//     authenticator app (POST /v1/totp/reenroll, then
//     /v1/totp/reenroll/confirm with a code of the new key; the old app
//     keeps working until then). Both ask for the password again (counted
//     with sign-in's) and a fresh TOTP code, which may be left out only
//     with a session whose code or recovery code was checked less than ten
//     minutes ago (the console's, or the app's): so someone who lost their
//     phone signs in with a recovery code and sets up the new one at once.
//     An API token, a token narrowed from a session, or an older session
//     never stands in for the code, whatever its scopes: a token and a
//     password must not be enough to mint recovery codes, which sign in
//     with every scope.
//   - API tokens (token): a person creates tokens with the scopes they need
//     (never more than their own), lists them by id and metadata, revokes
//     one, or signs out everywhere. Every API route sits behind
//     token.Middleware with the scopes it needs, and every route that acts
//     on the person's application (devices, integrations, an integrator's
//     request to an integration) refuses a token limited to other
//     applications (403): a person has one application, whose id is theirs
//     (the {app} of their devices' topics). The platform never stores
//     a token: only its id, owner, scopes, apps and times. One keyring,
//     stored sealed under the master key, encrypts every token (sessions,
//     API tokens, device secrets); [Platform.RotateTokenKey] and
//     [Platform.RetireTokenKey] change it, stored before it takes effect.
//   - Integrators authenticate with OAuth 2.0 at /oauth/token: the
//     client-credentials grant (RFC 6749 §4.4) issues them a token, and
//     token exchange (RFC 8693) narrows any token to fewer scopes. What it
//     would not honour is refused rather than ignored: an audience or a
//     resource (invalid_target: tokens are for this API only), an actor
//     token (invalid_request: no delegation), a scope named twice.
//   - Integrations (sealedbox): the person's app stores a public key and a
//     wrapped private key; an integrator posts request definitions, which
//     the platform validates and seals to that public key the moment they
//     arrive. Only envelopes are stored, and no route returns a definition
//     in the clear: the platform cannot read them once sealed. An
//     integrator that signs its requests gets the public key (GET
//     /v1/integrations/{id}/public-key), signs and seals them itself
//     (integrator.Statement.Seal) and stores the envelope under its own
//     request id (PUT /v1/integrations/{id}/requests/{rid}): the platform
//     never sees that definition, marks the request signed, and cannot
//     forge, move or roll it back without the app noticing.
//   - Devices get an application key and secret (mqttauth: the secret is a
//     token bound to the owner and the device) and connect with them to the
//     platform's embedded MQTT broker (mochi-mqtt with mqttauth/mochi, on
//     TLS), where they may subscribe to their own rules topic and publish to
//     their own state topic only ([api.RulesTopic], [api.StateTopic]). The person's
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
//     definition: a refused application key is logged only if it has the
//     shape of one (mqttauth.ValidKey), else as "(not a key)", and a
//     refused client id only if it is registered, else as "(not a client
//     id)", so that a device that swaps its key and secret, or a client
//     that sends its secret as its id, does not have the secret written
//     down.
//
// # Who has an account
//
// Sign-in does not tell who has an account: an unknown address and a wrong
// password get the same answer, cost the same hash, and are throttled
// alike. Sign-up does: an address that has an account is answered 409 ("An
// account with this email exists: sign in instead."), and nothing changes.
// That is a choice. Hiding it takes a channel to the address's owner that
// this example does not have: sign-up here shows the TOTP key at once, so
// whoever signs up learns whether the account was made by using the key
// (a decoy answer for a taken address would be unmasked by its first
// code), while a person who forgot they had an account would be left with
// a QR code that never works. A deployment that verifies addresses by
// e-mail should answer every sign-up alike ("check your mail") and send
// the owner of a taken address a note instead of a key; and, either way,
// limit sign-ups per client address at its front proxy, which also bounds
// how fast new accounts can fill the pool of pending sign-ins.
//
// # Reading the code
//
// [Platform] composes one type per service, each with its own state and
// the database, audit log and clock they share: tokenKeys (keys.go, the
// token keyring and its rotation), tokens (tokens.go, issuing, listing and
// revoking tokens, and the token middleware of every route), accounts
// (signin.go, password.go, throttle.go: sign-up and sign-in),
// secondFactor (secondfactor.go: recovery codes, a new authenticator app),
// oauth (oauth.go: the token endpoint), integrations (integrations.go,
// signed.go), broker (broker.go: mochi with mqttauth), devices (devices.go:
// devices and the relay) and console (console.go). http.go maps each route
// to its service; platform.go starts and stops them. The wire types are
// in examples/api.
//
// # Secrets at rest
//
// The database holds no secret in the clear. Passwords are argon2id hashes;
// integrator client secrets and device secrets are never stored (client
// secrets as SHA-256 hashes of 256 random bits; device secrets are tokens,
// verified by their key); TOTP secrets are encrypted by package totp; the
// token keyring (a JWK Set) is encrypted with AES-256-GCM under a key
// derived from Config.MasterKey. Keep the master key out of the state
// directory in production (a KMS or a secrets manager): whoever holds it
// and the database can mint tokens. The demo in examples/stack keeps it in
// a file of its own with mode 0600.
package platform
