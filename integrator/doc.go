// Package integrator executes an integrator's API request on a device: the
// request definition that the person's app opened and handed over, sent
// under its transport security level with its authorization. Parse the
// definition with [ParseRequest], make a [Caller] with [New] once per
// request, call [Caller.Do] each time the request is to be made, and hand
// a changed definition of the same request to [Caller.Rebind]:
//
//	req, err := integrator.ParseRequest(definition)
//	caller, err := integrator.New(req, integrator.Options{RefreshToken: stored, SaveRefreshToken: save})
//	resp, err := caller.Do(ctx)
//	err = caller.Rebind(ctx, changed) // later: a new definition of the request
//
// # The request definition
//
// A [Request] is JSON with the fields method, url, headers, body,
// securityLevel, pinnedCertificate and authorization (see [Request] for an
// example). Parsing is strict, so that a definition means to the device
// what it meant to whoever checked it: member names must match exactly
// ("URL" is not "url"), and duplicate members (in any case, as
// {"url":"https://good…","URL":"https://evil…"}), unknown fields and
// trailing data are refused. Validation
// reports every problem at once, as a *[ValidationError] naming each field
// (never its value): a method outside GET, HEAD, POST, PUT, PATCH, DELETE
// and OPTIONS; a URL that is not absolute https:// (http:// only at
// AllowHttp), has no host, a host not in ASCII (an internationalized name
// goes in its xn-- form) or user information; header names that
// are not tokens, header values with control characters, headers the HTTP
// client owns (Host, Content-Length, hop-by-hop headers), an Authorization
// header beside an OAuth authorization; a body with GET or HEAD; a pinned
// certificate missing where the level needs one or given where it does not;
// an authorization with missing or superfluous fields. Sizes are capped:
// 1 MiB of JSON, 512 KiB of body, 8 KiB of URL, 64 headers and 16 KiB of
// headers, 8 KiB tokens, 32 scopes.
//
// # Transport security
//
// Every connection a Caller makes, to the API and to the token endpoint, goes
// through the [tlspolicy] client for the definition's securityLevel and
// pinnedCertificate, never [net/http.DefaultClient]: TLS 1.2 or later,
// certificate checks or the pin as the level says, timeouts, no redirect to
// another host or from https to http. A response body is read up to
// Options.MaxResponseBody (1 MiB by default); a longer one fails with
// [ErrRequestFailed]. A response of any status is returned as it is.
//
// # Authorization
//
// [Authorization.Type] names one of three, as the JSON does: "NoAuth",
// "OAuthAccessToken" or "OAuthRefreshToken"; [Authorization.AuthStyle] is
// "InHeader", "InParams" or empty. Both are plain strings holding the
// definition's JSON values, as net/http's Request.Method holds a method:
// the definition is data an integrator writes, not a choice of algorithm
// made in code. [Request.Validate] (which [ParseRequest] and [New] call)
// refuses any other value, another case included, with a [FieldError] that
// names the field ("authorization.type", "authorization.authStyle").
// NoAuth (or an empty type) adds nothing: the integrator may authenticate the device
// with a custom header, which the definition can mark secret.
// OAuthAccessToken sends a fixed access token as "Authorization: Bearer".
// OAuthRefreshToken makes the device an OAuth 2.0 client (RFC 6749 section
// 6) with golang.org/x/oauth2:
//
//   - it exchanges the refresh token at the token endpoint for an access
//     token, and reuses the access token until 30 seconds before it expires
//     by Options.Now;
//   - when the API answers 401, it refreshes once (unless a concurrent call
//     already did) and sends the request once more; a second 401 is
//     returned to the caller;
//   - concurrent calls on one Caller share a single refresh;
//   - when the server rotates the refresh token, the new one is handed to
//     Options.SaveRefreshToken, in the stored form (below), before the
//     access token that came with it is used. If saving fails, Do fails
//     with [ErrPersist], the new access token is not used, and saving is
//     tried again first on the next call;
//   - when the server refuses the refresh token or the client
//     (invalid_grant, invalid_client, unauthorized_client, invalid_scope), Do
//     fails with [ErrReauthorize]: the person must link the integration again.
//     Other token endpoint failures are [ErrTokenEndpoint] and may pass.
//
// # Stored credentials go only where they were delivered for
//
// What the device holds for a request, the refresh token the server
// rotated and the access token it caches, is bound to the binding of the
// definition that delivered it:
//
//   - the API URL's origin: scheme, host and port (where the access token
//     goes);
//   - the security level and the pinned certificate (its SHA-256; the PEM
//     may be wrapped differently);
//   - for OAuthRefreshToken, the token endpoint (the token URL's scheme,
//     host, port and path; its query names no other server and is not
//     part of it), the client id and the auth style, the default resolved.
//
// A later definition of the same request (given to [New] with the stored
// form, or to [Caller.Rebind]) whose binding is the same gets the stored
// credentials; what is not part of the binding (method, path, headers,
// body, scopes, client secret) may change, and a refresh token of its own
// (the person linked the integration again) replaces the stored one. A
// definition whose binding differs in any field gets none of them: it
// runs with the refresh token it carries only if that token is its own,
// that is neither the token the stored chain started with nor one stored
// since; otherwise it is refused with a *[BindingError]
// ([ErrBindingChanged]) before anything is sent, and a warning naming the
// changed fields (never their values) goes to Options.Log. A refused
// Rebind leaves the Caller as it was, so the legitimate definition keeps
// running. A stored chain that a definition's own token displaces is kept
// until the new chain is first saved, and a definition with its binding
// gets it back, as after a restart. A stored credential is thus never
// sent over another level, to another origin, under another pin, to
// another token endpoint or as another client. Hosts are compared as
// written, lower-cased, and only ASCII hosts are accepted: the HTTP client
// would dial a non-ASCII name by its IDNA form, under which two names that
// lower-case alike ("straẞe", "straße") can be two servers. A redirect is
// followed only to the same host and port (tlspolicy), so it can move a
// credential only to another path of the server it was delivered for,
// which that server chose. At AllowHttp the credential crosses the network
// in the clear, for whoever is on the path to read, as it did when it was
// delivered. NoAuth and
// OAuthAccessToken definitions carry their credential themselves and use
// nothing stored.
//
// The stored form, what SaveRefreshToken is given, is one line of text:
// "latch-integrator-credential/v1", the binding (origin, level, pin
// digest, token endpoint, client id, auth style), the SHA-256 of the
// refresh token the delivering definition carried, and the refresh token,
// separated by spaces. Reading it is strict: a form that is not exactly
// what this release writes is refused with [ErrStoredState] and nothing of
// it is used.
//
// Releases before the stored form saved the bare refresh token. Such a
// value is read, and bound on first use: to the binding of the first
// OAuthRefreshToken definition the upgraded device gets for the request,
// with that definition's refresh token as the start of the chain. The
// binding is saved before the token is sent. This trusts that first
// definition: had the stored definition been changed before the upgraded
// device first ran the request, the token would be bound to the change.
// From then on it is bound like any other.
//
// # What the cloud can and cannot make the device do
//
// In the flow where the platform seals an integrator's plaintext
// definition on arrival, and without signed requests, the cloud, or
// anyone with write access to its storage, can write any definition the
// person's app will open. Against that, this package guarantees that the
// credentials the device holds are sent only where they were delivered
// for. Such an attacker can still:
//
//   - make the device run any request it writes, with credentials it
//     writes itself (among them the refresh token the integrator posted,
//     which the platform saw on arrival);
//   - make the device run a request of its own choosing with the stored
//     credentials, at the origin and token endpoint they were delivered
//     for: a definition that keeps the binding may change the method,
//     path, headers and body. The credentials go nowhere else, but there
//     they do what the cloud asks;
//   - withhold a definition, serve an older one, or move one to another
//     request id: the device cannot tell without signatures;
//   - make the device drop a stored refresh token, by delivering a
//     definition with another binding and a token of its own whose server
//     rotates it: the new stored form replaces the old, and the person
//     must link the integration again (denial of service, not disclosure);
//   - bind a bare refresh token of an earlier release, as said above.
//
// It cannot make the device send a credential it holds, the refresh token
// of the chain it stores (the one delivered or one rotated since) or the
// access token it caches, to another token endpoint, client id, API
// origin, security level or pin, nor read them. Signed requests
// close the rest: with them the app accepts only what the integrator
// signed.
//
// # The firmware's duties
//
// Store the stored form durably, as given: read it at start into
// Options.RefreshToken, and in SaveRefreshToken write the new one to flash
// (not RAM) before returning. After a rotation the old refresh token may
// stop working at once, and some servers (oidc-provider, for one) revoke
// the whole grant when a replaced refresh token is used again, so a device
// that loses a rotated token must be re-linked. Keep one Caller per
// integration and request, and give it a changed definition with Rebind
// rather than making a second Caller: two Callers sharing a rotating
// refresh token race each other. Key the Callers and the stored forms by
// the integration id and the request id together: request ids of two
// integrations may be equal, and Rebind hands the stored credentials to
// any definition with the same binding, so a device keyed by request id
// alone would run another integration's request (one the cloud wrote, in
// the unsigned flow) with them. On [ErrReauthorize] and [ErrBindingChanged], tell the person; do
// not retry. Keep the device clock roughly right: certificate
// validity and token expiry are judged by it.
//
// # Signed requests
//
// An integrator can sign its requests so that the platform that stores
// them can neither forge, alter, move nor roll one back, and, because it
// seals them itself, never sees them. The integrator publishes its
// verifying keys ([MarshalKeySet]) on its own host at the path
// [KeySetPath] (https://HOST/.well-known/latch-integrator-keys),
// builds a [Statement] (the definition, the integration id, the request id
// and a version number that grows with each new definition of the
// request), and calls [Statement.Seal] with the app's public key, which the
// platform hands out: a sealedbox signed envelope, signed then sealed,
// bound to a context of the two ids ("latch signed request v1", a zero
// byte, then each id preceded by its length as four bytes, big-endian).
// It uploads the envelope; the platform stores it as it is and can mark it
// signed ([sealedbox.IsSigned]).
//
// When the person enables the integration, the app fetches the key set
// itself with [FetchKeySet] (TlsWithCACheck, the zero [tlspolicy.Policy],
// no redirect, never through the platform),
// shows the host to the person, and pins the set ([KeySet.Host],
// [KeySet.Document], [ParseKeySet]). Later it opens each downloaded
// request with [StatementVerifier.Open], which requires a signature by a
// pinned key valid now by the app's clock, the ids of the place the
// request was stored at, and a version not lower than the highest accepted
// for that request, and if equal the very statement accepted (kept in a
// [VersionStore] the app persists). Only then does the app hand the
// definition to the device. Key validity is judged when the app opens a
// statement, not when it was signed: a statement whose key has expired no
// longer opens, so the integrator signs its requests again with a current
// key before the old one's notAfter.
//
// The app persists both the pinned key set and the versions, and acts on a
// request only after the new version is saved. An app that forgets them on
// a restart reopens what they close: with no versions it accepts an older
// version again, and with no pin it treats the integration as unsigned and
// opens a request the cloud sealed itself. Rotation: [KeySet.Refresh] fetches a new set
// from the same host, and the app pins it in place of the old one.
//
// What this trusts: the web PKI for the integrator's host, once, when the
// set is fetched (and at each rotation), and the person reading the host
// name and recognizing the integrator. A misissued certificate for that
// host at that moment, or a person who accepts a look-alike host, defeats
// it; nothing the platform stores or serves afterwards does.
//
// Who can forge what:
//
//   - Without signing (the platform seals plaintext on arrival): whoever can
//     write the platform's storage (the operator, an insider, a database
//     breach) can replace a request by any definition sealed to the app's
//     public key, roll it back to an older one, or move it; the app cannot
//     tell. The device's binding of stored credentials to where they were
//     delivered for limits the damage: a rewritten token endpoint or origin
//     gets no stored credential.
//   - With signing: the platform can read nothing (the integrator sealed
//     it) and forge nothing: a request it sealed itself is unsigned
//     ([sealedbox.ErrUnsigned]) or signed by a key the app does not trust
//     ([sealedbox.ErrUnknownSigner]); one moved to another request or
//     integration does not open ([sealedbox.ErrOpen]), or names another
//     place and is refused; an
//     older version, or another statement under the version accepted, is
//     refused ([ErrRollback]) for as long as the app keeps its versions.
//     It can still withhold or delete requests, and serve the latest
//     version again. Its mark of a request as signed decides nothing: once
//     a key set is pinned, the app requires a signature whatever the mark
//     says. Every refusal
//     matches [ErrSignedRequest]. A platform that hands the integrator a
//     public key of its own instead of the app's can read what the
//     integrator then seals, but still cannot get it accepted: the
//     signature names the recipient's key, so re-sealed to the app it
//     fails. An integrator that must keep definitions from such a platform
//     gets the app's public key by another way.
//   - Whoever holds the integrator's signing key can sign anything for any
//     app; the integrator keeps it off the platform and rotates it by
//     publishing a new set. Whoever can change what the integrator's host
//     serves can get a new key set pinned at the next fetch. A key removed
//     from the published set still verifies on an app until the app pins
//     the new set, and a leaked key signs, until its notAfter, for every
//     app that has not.
//   - Another integrator, of another integration, signs with keys that are
//     not in this integration's pinned set ([sealedbox.ErrUnknownSigner]),
//     even if it knows the app's public key for this integration; a
//     statement of its own integration moved here does not open.
//
// Unsigned requests stay possible for integrators that do not sign; an app
// that has pinned a key set for an integration uses Open, which refuses
// unsigned envelopes, and an app may refuse unsigned requests altogether.
//
// # Errors
//
// Every error of the package matches a category with [errors.Is] (see
// errors.go) and, where the reason is not secret, the reason too, built with
// Latch's one error idiom as in every Latch package: [ErrInvalidRequest] (a
// *[ValidationError]), [ErrBindingChanged] (a *[BindingError]),
// [ErrReauthorize], [ErrTokenEndpoint], [ErrPersist], [ErrRequestFailed]
// and [ErrStoredState] on the device; [ErrSignedRequest] (with
// [ErrRollback] or a sealedbox reason) and [ErrKeySet] in the app.
//
// # What stays secret
//
// No error of this package contains an access or refresh token, the client
// secret, a header value, the body or the URL's query; errors from the token
// endpoint carry only the HTTP status and the RFC 6749 error code, never the
// response body. Printing or logging a [Request] ([fmt], [log/slog]) shows
// the method, the URL without its query, the level, header names and the
// authorization type.
//
// The package is device-side: it uses only the standard library, tlspolicy,
// sealedbox (for signed requests), golang.org/x/oauth2 and Latch's internal
// helpers, and builds for linux/arm, linux/arm64 and linux/mipsle.
package integrator
