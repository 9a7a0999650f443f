package integrator

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/stretchr/testify/require"
)

const (
	secretValue   = "SECRET-HEADER-VALUE-123"
	secretToken   = "SECRET-ACCESS-TOKEN-456"
	secretRefresh = "SECRET-REFRESH-TOKEN-789"
	secretClient  = "SECRET-CLIENT-SECRET-000"
)

func validRefreshRequest() Request {
	return Request{
		Method:        "POST",
		URL:           "https://api.example.test/doors/12/open?key=" + secretValue,
		Headers:       []Header{{Name: "X-Api-Key", Value: secretValue, Secret: true}},
		Body:          `{"reason":"arrival"}`,
		SecurityLevel: tlspolicy.TlsWithCACheck,
		Authorization: Authorization{
			Type:         oauthRefreshToken,
			RefreshToken: secretRefresh,
			TokenURL:     "https://auth.example.test/token",
			ClientID:     "device-client",
			ClientSecret: secretClient,
			Scopes:       []string{"doors:open", "offline_access"},
		},
	}
}

func TestValidateAcceptsGoodDefinitions(t *testing.T) {
	pin := testpki.New(t, testpki.Options{CA: true}, nil).PEM()
	good := []Request{
		validRefreshRequest(),
		{Method: "GET", URL: "https://api.example.test/x"},
		{Method: "GET", URL: "http://192.168.1.20:8080/x", SecurityLevel: tlspolicy.AllowHttp},
		{Method: "PUT", URL: "https://[::1]:8443/x", Body: "on", SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: pin},
		{Method: "GET", URL: "https://api.example.test/x", Headers: []Header{{Name: "Authorization", Value: "ApiKey abc"}}},
		{Method: "DELETE", URL: "https://api.example.test/x", Authorization: Authorization{Type: oauthAccessToken, AccessToken: "abc.DEF-ghi_~+/=="}},
		{Method: "GET", URL: "https://api.example.test/x", Authorization: Authorization{Type: oauthRefreshToken,
			RefreshToken: "r", TokenURL: "https://a.test/t", ClientID: "public-app", AuthStyle: authInParams}},
	}
	for i, r := range good {
		require.NoError(t, r.Validate(), "case %d", i)
	}
}

func TestValidateRefusals(t *testing.T) {
	pin := testpki.New(t, testpki.Options{CA: true}, nil).PEM()
	cases := []struct {
		name   string
		change func(r *Request)
		field  string
	}{
		{"no method", func(r *Request) { r.Method = "" }, "method"},
		{"lower-case method", func(r *Request) { r.Method = "post" }, "method"},
		{"CONNECT", func(r *Request) { r.Method = "CONNECT" }, "method"},
		{"TRACE", func(r *Request) { r.Method = "TRACE" }, "method"},
		{"no url", func(r *Request) { r.URL = "" }, "url"},
		{"relative url", func(r *Request) { r.URL = "/doors/12" }, "url"},
		{"ftp url", func(r *Request) { r.URL = "ftp://api.example.test/x" }, "url"},
		{"http below AllowHttp", func(r *Request) { r.URL = "http://api.example.test/x" }, "url"},
		{"no host", func(r *Request) { r.URL = "https:///x" }, "url"},
		{"user info", func(r *Request) { r.URL = "https://user:" + secretValue + "@api.example.test/x" }, "url"},
		{"bad escape", func(r *Request) { r.URL = "https://api.example.test/%zz" }, "url"},
		{"non-ASCII host", func(r *Request) { r.URL = "https://straße.example/x" }, "url"},
		{"escaped non-ASCII host", func(r *Request) { r.URL = "https://stra%C3%9Fe.example/x" }, "url"},
		{"non-ASCII token host", func(r *Request) { r.Authorization.TokenURL = "https://straẞe.example/token" }, "authorization.tokenUrl"},
		{"huge url", func(r *Request) { r.URL = "https://api.example.test/" + strings.Repeat("a", maxURL) }, "url"},
		{"huge body", func(r *Request) { r.Body = strings.Repeat("a", maxBody+1) }, "body"},
		{"body with GET", func(r *Request) { r.Method = "GET" }, "body"},
		{"bad header name", func(r *Request) { r.Headers[0].Name = "X Api Key" }, "headers[0].name"},
		{"empty header name", func(r *Request) { r.Headers[0].Name = "" }, "headers[0].name"},
		{"CRLF in header value", func(r *Request) { r.Headers[0].Value = secretValue + "\r\nX-Evil: 1" }, "headers[0].value"},
		{"NUL in header value", func(r *Request) { r.Headers[0].Value = "a\x00b" }, "headers[0].value"},
		{"Host header", func(r *Request) { r.Headers[0].Name = "host" }, "headers[0].name"},
		{"Transfer-Encoding", func(r *Request) { r.Headers[0].Name = "Transfer-Encoding" }, "headers[0].name"},
		{"Connection", func(r *Request) { r.Headers[0].Name = "Connection" }, "headers[0].name"},
		{"Proxy-Authorization", func(r *Request) { r.Headers[0].Name = "Proxy-Authorization" }, "headers[0].name"},
		{"Content-Length", func(r *Request) { r.Headers[0].Name = "Content-Length" }, "headers[0].name"},
		{"Authorization with OAuth", func(r *Request) { r.Headers[0].Name = "authorization" }, "headers[0].name"},
		{"too many headers", func(r *Request) {
			for range maxHeaders {
				r.Headers = append(r.Headers, Header{Name: "X-A", Value: "b"})
			}
		}, "headers"},
		{"header bytes", func(r *Request) { r.Headers[0].Value = strings.Repeat("a", maxHeaderBytes) }, "headers"},
		{"pin at TlsWithCACheck", func(r *Request) { r.PinnedCertificate = pin }, "pinnedCertificate"},
		{"no pin at TlsPinnedCertificate", func(r *Request) { r.SecurityLevel = tlspolicy.TlsPinnedCertificate }, "pinnedCertificate"},
		{"garbage pin", func(r *Request) {
			r.SecurityLevel = tlspolicy.TlsPinnedCertificate
			r.PinnedCertificate = "-----BEGIN CERTIFICATE-----\n" + secretValue + "\n-----END CERTIFICATE-----\n"
		}, "pinnedCertificate"},
		{"unknown level", func(r *Request) { r.SecurityLevel = 9 }, "securityLevel"},
		{"unknown auth type", func(r *Request) { r.Authorization.Type = "Basic" }, "authorization.type"},
		{"auth type in another case", func(r *Request) { r.Authorization.Type = "oauthrefreshtoken" }, "authorization.type"},
		{"secret as auth type", func(r *Request) { r.Authorization.Type = secretValue }, "authorization.type"},
		{"no refresh token", func(r *Request) { r.Authorization.RefreshToken = "" }, "authorization.refreshToken"},
		{"refresh token with space", func(r *Request) { r.Authorization.RefreshToken = secretRefresh + " x" }, "authorization.refreshToken"},
		{"no token url", func(r *Request) { r.Authorization.TokenURL = "" }, "authorization.tokenUrl"},
		{"http token url", func(r *Request) { r.Authorization.TokenURL = "http://auth.example.test/token" }, "authorization.tokenUrl"},
		{"no client id", func(r *Request) { r.Authorization.ClientID = "" }, "authorization.clientId"},
		{"client secret with newline", func(r *Request) { r.Authorization.ClientSecret = secretClient + "\n" }, "authorization.clientSecret"},
		{"bad scope", func(r *Request) { r.Authorization.Scopes = []string{"doors open"} }, "authorization.scopes[0]"},
		{"scope with quote", func(r *Request) { r.Authorization.Scopes = []string{`a"b`} }, "authorization.scopes[0]"},
		{"too many scopes", func(r *Request) { r.Authorization.Scopes = make([]string, maxScopes+1) }, "authorization.scopes"},
		{"access token beside refresh", func(r *Request) { r.Authorization.AccessToken = secretToken }, "authorization.accessToken"},
		{"InHeader without secret", func(r *Request) {
			r.Authorization.ClientSecret = ""
			r.Authorization.AuthStyle = authInHeader
		}, "authorization.authStyle"},
		{"bad auth style", func(r *Request) { r.Authorization.AuthStyle = "inheader" }, "authorization.authStyle"},
		{"no access token", func(r *Request) {
			r.Authorization = Authorization{Type: oauthAccessToken}
		}, "authorization.accessToken"},
		{"access token with space", func(r *Request) {
			r.Authorization = Authorization{Type: oauthAccessToken, AccessToken: "a b" + secretToken}
		}, "authorization.accessToken"},
		{"access token with refresh fields", func(r *Request) {
			r.Authorization.Type = oauthAccessToken
			r.Authorization.AccessToken = secretToken
		}, "authorization.refreshToken"},
		{"NoAuth with token", func(r *Request) {
			r.Authorization = Authorization{Type: noAuth, AccessToken: secretToken}
		}, "authorization.accessToken"},
		{"NoAuth with client secret", func(r *Request) {
			r.Authorization = Authorization{Type: noAuth, ClientSecret: secretClient}
		}, "authorization.clientSecret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validRefreshRequest()
			tc.change(&r)
			err := r.Validate()
			require.ErrorIs(t, err, ErrInvalidRequest)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			_, ok := ve.Field(tc.field)
			require.True(t, ok, "no problem reported for %s in %v", tc.field, ve.Problems)
			requireNoSecret(t, err.Error())
			_, err = New(&r, Options{SaveRefreshToken: noSave})
			require.ErrorIs(t, err, ErrInvalidRequest, "New validates too")
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	r := Request{Method: "BREW", URL: "gopher://x", Headers: []Header{{Name: "Host", Value: "x\n"}},
		Authorization: Authorization{Type: oauthRefreshToken}}
	var ve *ValidationError
	require.ErrorAs(t, r.Validate(), &ve)
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	require.Equal(t, []string{"method", "url", "headers[0].name", "headers[0].value",
		"authorization.refreshToken", "authorization.tokenUrl", "authorization.clientId"}, fields)
}

func TestParseRequest(t *testing.T) {
	want := validRefreshRequest()
	data, err := json.Marshal(want)
	require.NoError(t, err)
	got, err := ParseRequest(data)
	require.NoError(t, err)
	require.Equal(t, want, *got)

	// The names on the wire are fixed.
	var wire map[string]any
	require.NoError(t, json.Unmarshal(data, &wire))
	require.Equal(t, "TlsWithCACheck", wire["securityLevel"])
	auth := wire["authorization"].(map[string]any)
	require.Equal(t, "OAuthRefreshToken", auth["type"])
	for _, k := range []string{"refreshToken", "tokenUrl", "clientId", "clientSecret", "scopes"} {
		require.Contains(t, auth, k)
	}
	require.NotContains(t, auth, "authStyle", "the default style is left out")
}

func TestParseRequestRefusals(t *testing.T) {
	good := `{"method":"GET","url":"https://a.test/","securityLevel":"TlsWithCACheck","authorization":{"type":"NoAuth"}}`
	_, err := ParseRequest([]byte(good))
	require.NoError(t, err)
	cases := map[string]string{
		"unknown field":          `{"method":"GET","url":"https://a.test/","authorization":{"type":"NoAuth"},"extra":1}`,
		"unknown nested field":   `{"method":"GET","url":"https://a.test/","authorization":{"type":"NoAuth","password":"` + secretValue + `"}}`,
		"unknown level":          `{"method":"GET","url":"https://a.test/","securityLevel":"Insecure"}`,
		"unknown auth type":      `{"method":"GET","url":"https://a.test/","authorization":{"type":"Basic"}}`,
		"unknown auth style":     `{"method":"GET","url":"https://a.test/","authorization":{"type":"OAuthRefreshToken","authStyle":"Auto"}}`,
		"secret as auth type":    `{"method":"GET","url":"https://a.test/","authorization":{"type":"` + secretValue + `"}}`,
		"secret as auth style":   `{"method":"GET","url":"https://a.test/","authorization":{"type":"OAuthRefreshToken","refreshToken":"r","clientId":"c","tokenUrl":"https://a.test/t","authStyle":"` + secretValue + `"}}`,
		"wrong type":             `{"method":1,"url":"https://a.test/"}`,
		"headers as object":      `{"method":"GET","url":"https://a.test/","headers":{"X-Api-Key":"` + secretValue + `"}}`,
		"trailing data":          good + `{}`,
		"trailing garbage":       good + `x`,
		"not JSON":               `method=GET`,
		"truncated":              good[:20],
		"empty":                  ``,
		"array":                  `[]`,
		"null":                   `null`,
		"invalid after validate": `{"method":"GET","url":"http://a.test/"}`,
		"oversized":              `{"method":"GET","url":"https://a.test/","body":"` + strings.Repeat("a", maxDefinition) + `"}`,
		"secret in syntax error": `{"method":"GET","url":"https://a.test/","body":"` + secretValue + `"` + secretValue + `}`,
		// encoding/json matches names in any case and keeps the last
		// duplicate: each of these was the evil URL or token on a device.
		"url and URL":             `{"method":"GET","url":"https://good.test/","URL":"https://evil.test/","authorization":{"type":"NoAuth"}}`,
		"url twice":               `{"method":"GET","url":"https://good.test/","url":"https://evil.test/","authorization":{"type":"NoAuth"}}`,
		"URL only":                `{"method":"GET","URL":"https://evil.test/","authorization":{"type":"NoAuth"}}`,
		"escaped duplicate":       `{"method":"GET","url":"https://good.test/","\u0075rl":"https://evil.test/","authorization":{"type":"NoAuth"}}`,
		"tokenUrl twice in case":  `{"method":"GET","url":"https://a.test/","authorization":{"type":"OAuthRefreshToken","refreshToken":"r","clientId":"c","tokenUrl":"https://good.test/t","TokenURL":"https://evil.test/t"}}`,
		"securityLevel downgrade": `{"method":"GET","url":"https://a.test/","securityLevel":"TlsWithCACheck","SecurityLevel":"AllowHttp","authorization":{"type":"NoAuth"}}`,
		"header name in case":     `{"method":"GET","url":"https://a.test/","headers":[{"name":"X-A","value":"v","Name":"Host"}],"authorization":{"type":"NoAuth"}}`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := ParseRequest([]byte(in))
			require.ErrorIs(t, err, ErrInvalidRequest, "accepted: %+v", r)
			requireNoSecret(t, err.Error())
			require.NotContains(t, err.Error(), "evil", "an error quotes a value")
		})
	}
}

func TestPrintingShowsNoSecret(t *testing.T) {
	r := validRefreshRequest()
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("executing", "request", r)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("executing", "request", &r)
	for _, s := range []string{
		fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s", r, r, r, &r), r.String(),
		fmt.Sprintf("%v %#v", r.Authorization, r.Authorization), fmt.Sprintf("%v %#v", r.Headers, r.Headers[0]),
		logged.String(),
	} {
		requireNoSecret(t, s)
		require.NotContains(t, s, `{"reason"`, "no body")
	}
	require.Contains(t, r.String(), "https://api.example.test/doors/12/open")
	require.Contains(t, r.String(), "X-Api-Key")
	require.Contains(t, logged.String(), "OAuthRefreshToken")

	// An unknown type, which may be anything a definition holds, is not
	// shown either.
	r.Authorization.Type = secretValue
	for _, s := range []string{r.String(), r.Authorization.String(), fmt.Sprintf("%#v", r)} {
		requireNoSecret(t, s)
	}
}

// TestEmptyAuthTypeIsNoAuth: an absent or empty type is NoAuth, in Go and
// in JSON, and adds nothing to the request.
func TestEmptyAuthTypeIsNoAuth(t *testing.T) {
	for _, in := range []string{
		`{"method":"GET","url":"https://a.test/"}`,
		`{"method":"GET","url":"https://a.test/","authorization":{"type":""}}`,
	} {
		r, err := ParseRequest([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, noAuth, r.Authorization.kind())
		require.Contains(t, r.String(), "NoAuth")
	}
	r := Request{Method: "GET", URL: "https://a.test/", Headers: []Header{{Name: "Authorization", Value: "Basic " + secretValue}}}
	require.NoError(t, r.Validate(), "NoAuth leaves the Authorization header to the integrator")
}

func requireNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{secretValue, secretToken, secretRefresh, secretClient} {
		require.NotContains(t, s, secret)
	}
}

// TestMisspeltAuthorizationRefused: Authorization.Type and AuthStyle are
// the definition's strings, so a misspelling (a letter, a case, a plural)
// is refused, from JSON and from Go alike, by Validate with a FieldError
// that names the field and the values it accepts.
func TestMisspeltAuthorizationRefused(t *testing.T) {
	for _, tc := range []struct{ json, field, accepts string }{
		{`{"type":"OAuthRefreshTokens","refreshToken":"r","clientId":"c","tokenUrl":"https://a.test/t"}`, "authorization.type", "NoAuth, OAuthAccessToken or OAuthRefreshToken"},
		{`{"type":"oauthAccessToken","accessToken":"a"}`, "authorization.type", "NoAuth, OAuthAccessToken or OAuthRefreshToken"},
		{`{"type":"noauth"}`, "authorization.type", "NoAuth, OAuthAccessToken or OAuthRefreshToken"},
		{`{"type":"OAuthRefreshToken","refreshToken":"r","clientId":"c","tokenUrl":"https://a.test/t","authStyle":"InParam"}`, "authorization.authStyle", "InHeader or InParams"},
		{`{"type":"OAuthRefreshToken","refreshToken":"r","clientId":"c","clientSecret":"s","tokenUrl":"https://a.test/t","authStyle":"inHeader"}`, "authorization.authStyle", "InHeader or InParams"},
	} {
		_, err := ParseRequest([]byte(`{"method":"GET","url":"https://a.test/","authorization":` + tc.json + `}`))
		require.ErrorIs(t, err, ErrInvalidRequest, tc.json)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, tc.json)
		p, ok := ve.Field(tc.field)
		require.True(t, ok, "no problem reported for %s in %v", tc.field, ve.Problems)
		require.Contains(t, p.Reason, tc.accepts)

		// The same definition written in Go is refused the same way.
		var a Authorization
		require.NoError(t, json.Unmarshal([]byte(tc.json), &a))
		r := Request{Method: "GET", URL: "https://a.test/", Authorization: a}
		require.ErrorAs(t, r.Validate(), &ve)
		_, ok = ve.Field(tc.field)
		require.True(t, ok, "Validate: no problem reported for %s in %v", tc.field, ve.Problems)
	}
}
