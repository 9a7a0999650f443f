// Package integrator executes an integrator's API request on a device: the
// request definition that the person's app opened and handed over, sent
// under its transport security level with its authorization. Parse the
// definition with [ParseRequest], make a [Caller] with [New] once per
// definition, and call [Caller.Do] each time the request is to be made:
//
//	req, err := integrator.ParseRequest(definition)
//	caller, err := integrator.New(req, integrator.Options{SaveRefreshToken: save})
//	resp, err := caller.Do(ctx)
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
// AllowHttp), has no host or carries user information; header names that
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
// [ErrResponseTooLarge]. A response of any status is returned as it is.
//
// # Authorization
//
// NoAuth adds nothing: the integrator may authenticate the device with a
// custom header, which the definition can mark secret. OAuthAccessToken
// sends a fixed access token as "Authorization: Bearer". OAuthRefreshToken
// makes the device an OAuth 2.0 client (RFC 6749 section 6) with
// golang.org/x/oauth2:
//
//   - it exchanges the refresh token at the token endpoint for an access
//     token, and reuses the access token until 30 seconds before it expires
//     by Options.Now;
//   - when the API answers 401, it refreshes once (unless a concurrent call
//     already did) and sends the request once more; a second 401 is
//     returned to the caller;
//   - concurrent calls on one Caller share a single refresh;
//   - when the server rotates the refresh token, the new one is handed to
//     Options.SaveRefreshToken before the access token that came with it is
//     used. If saving fails, Do fails with [ErrPersist], the new access token
//     is not used, and saving is tried again first on the next call;
//   - when the server refuses the refresh token or the client
//     (invalid_grant, invalid_client, unauthorized_client, invalid_scope), Do
//     fails with [ErrReauthorize]: the person must link the integration again.
//     Other token endpoint failures are [ErrTokenEndpoint] and may pass.
//
// # The firmware's duties
//
// Store the refresh token durably: read it at start into
// Options.RefreshToken, and in SaveRefreshToken write the new one to flash
// (not RAM) before returning. After a rotation the old refresh token may
// stop working at once, and some servers (oidc-provider, for one) revoke the
// whole grant when a replaced refresh token is used again, so a device that
// loses a rotated token must be re-linked. On [ErrReauthorize], tell the
// person; do not retry. Keep the device clock roughly right: certificate
// validity and token expiry are judged by it.
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
// The package is device-side: it uses only the standard library, tlspolicy
// and golang.org/x/oauth2, and builds for linux/arm, linux/arm64 and
// linux/mipsle.
package integrator
