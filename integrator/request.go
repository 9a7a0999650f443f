package integrator

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/tlspolicy"
)

// Request is an integrator's API request as the device receives it: what to
// send, under which transport security level, with which authorization. Its
// JSON form is
//
//	{
//	  "method": "POST",
//	  "url": "https://api.example.com/doors/12/open",
//	  "headers": [{"name": "X-Api-Key", "value": "...", "secret": true}],
//	  "body": "{\"reason\":\"arrival\"}",
//	  "securityLevel": "TlsWithCACheck",
//	  "pinnedCertificate": "",
//	  "authorization": {"type": "NoAuth"}
//	}
//
// Parse it with [ParseRequest], which refuses unknown fields and validates.
// Printing or logging a Request (fmt, log/slog) shows no secret: header values,
// tokens, the client secret, the body and the URL's query are left out.
type Request struct {
	Method            string          `json:"method"`
	URL               string          `json:"url"`
	Headers           []Header        `json:"headers,omitempty"`
	Body              string          `json:"body,omitempty"`
	SecurityLevel     tlspolicy.Level `json:"securityLevel"`
	PinnedCertificate string          `json:"pinnedCertificate,omitempty"`
	Authorization     Authorization   `json:"authorization"`
}

// Header is a custom request header. Secret marks a value that is a
// credential (an API key, a custom token); values are never shown in errors
// or logs in any case, and Secret documents the integrator's intent.
type Header struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"`
}

// Authorization says how the device authenticates to the API. Its fields
// are the definition's JSON values, checked by [Request.Validate].
type Authorization struct {
	// Type is one of
	//   - "NoAuth" (or empty): no authorization of Latch's; the integrator
	//     may put an API key in a custom header;
	//   - "OAuthAccessToken": a fixed OAuth 2.0 access token, sent as
	//     "Authorization: Bearer";
	//   - "OAuthRefreshToken": an OAuth 2.0 refresh token that the device
	//     exchanges itself for access tokens at the token endpoint.
	//
	// These are the definition's JSON values, spelt exactly so: [Request.Validate]
	// (and so [ParseRequest] and [New]) refuses any other value, another case
	// included, with a [FieldError] for "authorization.type".
	Type string `json:"type"`

	// AccessToken is the bearer token of OAuthAccessToken.
	AccessToken string `json:"accessToken,omitempty"`

	// The fields of OAuthRefreshToken: the refresh token the person's
	// linking produced, the token endpoint, the client credentials and the
	// scopes.
	RefreshToken string   `json:"refreshToken,omitempty"`
	TokenURL     string   `json:"tokenUrl,omitempty"`
	ClientID     string   `json:"clientId,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`

	// AuthStyle is how an OAuthRefreshToken client authenticates to the
	// token endpoint: "InHeader" (HTTP Basic, RFC 6749 section 2.3.1;
	// needs a client secret) or "InParams" (client_id and client_secret in
	// the form). Empty, the default, means InHeader when there is a client
	// secret and InParams for a public client without one. It is never
	// guessed by trial, which would cost a failed request. Validate refuses
	// any other value, and either one for another Type, with a [FieldError]
	// for "authorization.authStyle".
	AuthStyle string `json:"authStyle,omitempty"`
}

// ParseRequest parses and validates a request definition. The JSON is read
// strictly: member names must match exactly (encoding/json would take "URL"
// for "url"), and duplicate members (in any case), unknown members,
// trailing data and definitions over 1 MiB are refused, so that a
// definition cannot mean one thing to whoever checked it and another to
// the device. Every error matches [ErrInvalidRequest]; a validation error
// is a *[ValidationError] listing every problem.
func ParseRequest(data []byte) (*Request, error) {
	if len(data) > maxDefinition {
		return nil, invalid(FieldError{"", fmt.Sprintf("definition larger than %d bytes", maxDefinition)})
	}
	var r Request
	if err := strictjson.DecodeLimits(data, &r, strictjson.Limits{MaxSize: maxDefinition}); err != nil {
		return nil, invalid(jsonProblem(err))
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) FieldError {
	var e *strictjson.Error
	if !errors.As(err, &e) {
		return FieldError{"", "not a valid request definition"}
	}
	switch {
	case errors.Is(err, tlspolicy.ErrUnknownLevel):
		return FieldError{"securityLevel", "not one of TlsWithCACheck, TlsPinnedCertificate, TlsAllowSelfSigned, AllowHttp"}
	}
	// The member, never its value.
	return FieldError{e.Member, e.Problem()}
}

var allowedMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// forbiddenHeaders are set by the HTTP client or are hop-by-hop; an
// integrator may not set them.
var forbiddenHeaders = map[string]bool{
	"Host": true, "Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authorization": true, "Proxy-Authenticate": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
}

// Validate checks the whole definition and reports every problem as a
// *[ValidationError], which matches [ErrInvalidRequest].
func (r *Request) Validate() error {
	var v validator
	if !contains(allowedMethods, r.Method) {
		v.add("method", "must be one of "+strings.Join(allowedMethods, ", "))
	}
	v.url("url", r.URL, r.SecurityLevel)
	if len(r.Body) > maxBody {
		v.add("body", fmt.Sprintf("larger than %d bytes", maxBody))
	}
	if r.Body != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		v.add("body", "not allowed with "+r.Method)
	}
	v.headers(r.Headers, r.Authorization.kind())
	if err := (tlspolicy.Policy{SecurityLevel: r.SecurityLevel, PinnedCertificate: r.PinnedCertificate}).Validate(); err != nil {
		field := "pinnedCertificate"
		if errors.Is(err, tlspolicy.ErrUnknownLevel) {
			field = "securityLevel"
		}
		v.add(field, strings.TrimPrefix(err.Error(), "tlspolicy: "))
	}
	v.authorization(&r.Authorization, r.SecurityLevel)
	if len(v.problems) > 0 {
		return invalid(v.problems...)
	}
	return nil
}

type validator struct{ problems []FieldError }

func (v *validator) add(field, reason string) {
	v.problems = append(v.problems, FieldError{field, reason})
}

// url checks an absolute https URL (http only at AllowHttp), with an ASCII
// host and no user information.
func (v *validator) url(field, raw string, level tlspolicy.Level) {
	if raw == "" {
		v.add(field, "missing")
		return
	}
	if len(raw) > maxURL {
		v.add(field, fmt.Sprintf("longer than %d bytes", maxURL))
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.add(field, "not a valid URL")
	case u.Scheme != "https" && u.Scheme != "http":
		v.add(field, "must be an absolute https:// URL")
	case u.Scheme == "http" && level != tlspolicy.AllowHttp:
		v.add(field, "http:// is allowed only at AllowHttp; use https://")
	case u.Host == "" || u.Hostname() == "":
		v.add(field, "has no host")
	case u.User != nil:
		v.add(field, "must not carry user information; use the authorization or a header")
	case !asciiHost(u.Hostname()):
		v.add(field, "host must be written in ASCII; write an internationalized name in its xn-- form")
	}
}

// asciiHost reports whether host is all printable ASCII. The binding of a
// definition compares hosts as written, lower-cased; the HTTP client dials
// a non-ASCII name by its IDNA form, which folds case differently ("ẞ"
// becomes "ss", "ß" stays), so two spellings with the same binding could
// reach two servers. Only ASCII names are accepted, and they are dialed as
// written.
func asciiHost(host string) bool {
	for i := 0; i < len(host); i++ {
		if host[i] <= 0x20 || host[i] >= 0x7f {
			return false
		}
	}
	return true
}

func (v *validator) headers(hs []Header, auth string) {
	if len(hs) > maxHeaders {
		v.add("headers", fmt.Sprintf("more than %d headers", maxHeaders))
		return
	}
	total := 0
	for i, h := range hs {
		field := fmt.Sprintf("headers[%d]", i)
		total += len(h.Name) + len(h.Value)
		canonical := http.CanonicalHeaderKey(h.Name)
		switch {
		case !validToken(h.Name):
			v.add(field+".name", "not a valid header name")
		case forbiddenHeaders[canonical]:
			v.add(field+".name", canonical+" is set by the HTTP client and may not be given")
		case canonical == "Authorization" && auth != noAuth && auth != "":
			v.add(field+".name", "Authorization is set by the "+auth+" authorization")
		}
		if !validHeaderValue(h.Value) {
			v.add(field+".value", "contains control characters")
		}
	}
	if total > maxHeaderBytes {
		v.add("headers", fmt.Sprintf("more than %d bytes in all", maxHeaderBytes))
	}
}

func (v *validator) authorization(a *Authorization, level tlspolicy.Level) {
	const f = "authorization."
	mustBeEmpty := func(name, value string) {
		if value != "" {
			v.add(f+name, "not used by "+a.kind()+"; leave it out")
		}
	}
	switch a.kind() {
	case noAuth:
		mustBeEmpty("accessToken", a.AccessToken)
		mustBeEmpty("refreshToken", a.RefreshToken)
		mustBeEmpty("tokenUrl", a.TokenURL)
		mustBeEmpty("clientId", a.ClientID)
		mustBeEmpty("clientSecret", a.ClientSecret)
		if len(a.Scopes) > 0 {
			v.add(f+"scopes", "not used by NoAuth; leave it out")
		}
		mustBeEmpty("authStyle", a.AuthStyle)
	case oauthAccessToken:
		if a.AccessToken == "" {
			v.add(f+"accessToken", "missing")
		} else if !validBearer(a.AccessToken) {
			v.add(f+"accessToken", fmt.Sprintf("not a bearer token (RFC 6750 characters, at most %d bytes)", maxToken))
		}
		mustBeEmpty("refreshToken", a.RefreshToken)
		mustBeEmpty("tokenUrl", a.TokenURL)
		mustBeEmpty("clientId", a.ClientID)
		mustBeEmpty("clientSecret", a.ClientSecret)
		if len(a.Scopes) > 0 {
			v.add(f+"scopes", "not used by OAuthAccessToken; leave it out")
		}
		mustBeEmpty("authStyle", a.AuthStyle)
	case oauthRefreshToken:
		mustBeEmpty("accessToken", a.AccessToken)
		if a.RefreshToken == "" {
			v.add(f+"refreshToken", "missing")
		} else if !validVisible(a.RefreshToken, maxToken) {
			v.add(f+"refreshToken", fmt.Sprintf("must be visible ASCII, at most %d bytes", maxToken))
		}
		v.url(f+"tokenUrl", a.TokenURL, level)
		if a.ClientID == "" {
			v.add(f+"clientId", "missing")
		} else if !validVisible(a.ClientID, maxClientField) {
			v.add(f+"clientId", fmt.Sprintf("must be visible ASCII, at most %d bytes", maxClientField))
		}
		if a.ClientSecret != "" && !validVisible(a.ClientSecret, maxClientField) {
			v.add(f+"clientSecret", fmt.Sprintf("must be visible ASCII, at most %d bytes", maxClientField))
		}
		if len(a.Scopes) > maxScopes {
			v.add(f+"scopes", fmt.Sprintf("more than %d scopes", maxScopes))
		}
		for i, s := range a.Scopes {
			if !validScope(s) {
				v.add(fmt.Sprintf("%sscopes[%d]", f, i), "not a valid scope (RFC 6749 section 3.3)")
			}
		}
		switch a.AuthStyle {
		case "", authInParams:
		case authInHeader:
			if a.ClientSecret == "" {
				v.add(f+"authStyle", "InHeader needs a clientSecret; a public client sends its id InParams")
			}
		default:
			v.add(f+"authStyle", "must be InHeader or InParams")
		}
	default:
		v.add(f+"type", "must be NoAuth, OAuthAccessToken or OAuthRefreshToken")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validToken: an RFC 9110 token (header names).
func validToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue: no control characters but tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validBearer: RFC 6750 b64token.
func validBearer(s string) bool {
	if s == "" || len(s) > maxToken {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// validVisible: printable ASCII without spaces, non-empty, at most max bytes.
func validVisible(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validScope: RFC 6749 scope-token.
func validScope(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// String describes the request without secrets: method, scheme, host and
// path, level, header names and authorization type.
func (r Request) String() string {
	var names []string
	for _, h := range r.Headers {
		names = append(names, h.Name)
	}
	return fmt.Sprintf("%s %s (%s, headers [%s], %s, body %d bytes)",
		r.Method, redactURL(r.URL), r.SecurityLevel, strings.Join(names, " "), r.Authorization.kindName(), len(r.Body))
}

// GoString is String, so that %#v shows no secret either.
func (r Request) GoString() string { return "integrator.Request{" + r.String() + "}" }

// LogValue is what log/slog shows of a Request: no secret.
func (r Request) LogValue() slog.Value {
	var names []string
	for _, h := range r.Headers {
		names = append(names, h.Name)
	}
	return slog.GroupValue(
		slog.String("method", r.Method),
		slog.String("url", redactURL(r.URL)),
		slog.String("securityLevel", r.SecurityLevel.String()),
		slog.Any("headers", names),
		slog.String("authorization", r.Authorization.kindName()),
		slog.Int("bodyBytes", len(r.Body)),
	)
}

// String shows the type and, for refresh tokens, the token endpoint's host.
func (a Authorization) String() string {
	if a.kind() == oauthRefreshToken {
		return fmt.Sprintf("%s (token endpoint %s, client %q)", a.Type, redactURL(a.TokenURL), a.ClientID)
	}
	return a.kindName()
}

// GoString is String, so that %#v shows no secret either.
func (a Authorization) GoString() string { return "integrator.Authorization{" + a.String() + "}" }

// String shows the header's name only.
func (h Header) String() string { return h.Name + ": [redacted]" }

// GoString is String, so that %#v shows no secret either.
func (h Header) GoString() string { return "integrator.Header{" + h.String() + "}" }

// redactURL keeps scheme, host and path: queries and user information may
// hold credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[unparsable URL]"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
