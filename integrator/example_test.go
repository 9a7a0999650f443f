package integrator_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/tlspolicy"
)

// localAPI starts an API on the local network with a self-signed
// certificate, and returns its URL and the certificate to pin.
func localAPI(h http.HandlerFunc) (url, pin string, stop func()) {
	now := time.Now()
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"api.local"}, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		panic(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	return srv.URL, string(certPEM), srv.Close
}

// NoAuth: the integrator authenticates the device with an API key in a
// custom header, and pins its local API's certificate.
func ExampleCaller_Do_noAuth() {
	url, pin, stop := localAPI(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "key ok: %v", r.Header.Get("X-Api-Key") == "k-123")
	})
	defer stop()

	def, _ := json.Marshal(map[string]any{
		"method":            "POST",
		"url":               url + "/lights/on",
		"headers":           []map[string]any{{"name": "X-Api-Key", "value": "k-123", "secret": true}},
		"securityLevel":     "TlsPinnedCertificate",
		"pinnedCertificate": pin,
		"authorization":     map[string]any{"type": "NoAuth"},
	})
	req, err := integrator.ParseRequest(def)
	if err != nil {
		panic(err)
	}
	caller, err := integrator.New(req, integrator.Options{})
	if err != nil {
		panic(err)
	}
	resp, err := caller.Do(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, string(resp.Body))
	// Output: 200 key ok: true
}

// OAuthAccessToken: a fixed access token, sent as a bearer token.
func ExampleCaller_Do_accessToken() {
	url, pin, stop := localAPI(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	})
	defer stop()

	req := &integrator.Request{
		Method: "GET", URL: url + "/status",
		SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: pin,
		Authorization: integrator.Authorization{Type: "OAuthAccessToken", AccessToken: "at-42"},
	}
	caller, err := integrator.New(req, integrator.Options{})
	if err != nil {
		panic(err)
	}
	resp, err := caller.Do(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(string(resp.Body))
	// Output: Bearer at-42
}

// OAuthRefreshToken: the device exchanges its refresh token for access
// tokens itself and saves every rotated refresh token before using what
// came with it.
func ExampleCaller_Do_refreshToken() {
	url, pin, stop := localAPI(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			// The integrator's token endpoint rotates the refresh token.
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}`)
			return
		}
		fmt.Fprint(w, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	defer stop()

	req := &integrator.Request{
		Method: "POST", URL: url + "/doors/12/open", Body: "{}",
		SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: pin,
		Authorization: integrator.Authorization{
			Type: "OAuthRefreshToken", RefreshToken: "rt-1",
			TokenURL: url + "/oauth/token", ClientID: "door-device", ClientSecret: "s3cret",
		},
	}
	stored := "" // in real firmware: read from flash at start; empty on the first run
	caller, err := integrator.New(req, integrator.Options{
		RefreshToken: stored,
		SaveRefreshToken: func(ctx context.Context, form string) error {
			stored = form // in real firmware: write to flash, then return
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	resp, err := caller.Do(context.Background())
	if err != nil {
		panic(err)
	}
	f := strings.Fields(stored)
	fmt.Println("used", string(resp.Body))
	fmt.Println("stored", f[0], "...", f[len(f)-1])
	// Output:
	// used at-1
	// stored latch-integrator-credential/v1 ... rt-2
}

// A definition that would send the stored refresh token elsewhere (here:
// the cloud rewrote the token endpoint and lowered the level) gets none of
// it: New refuses before anything is sent, naming the changed fields.
func ExampleNew_bindingChanged() {
	url, pin, stop := localAPI(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}`)
	})
	defer stop()
	req := &integrator.Request{
		Method: "POST", URL: url + "/doors/12/open",
		SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: pin,
		Authorization: integrator.Authorization{
			Type: "OAuthRefreshToken", RefreshToken: "rt-1",
			TokenURL: url + "/oauth/token", ClientID: "door-device", ClientSecret: "s3cret",
		},
	}
	var stored string
	opts := integrator.Options{
		SaveRefreshToken: func(ctx context.Context, form string) error { stored = form; return nil },
		Log:              slog.New(slog.DiscardHandler),
	}
	caller, err := integrator.New(req, opts)
	if err != nil {
		panic(err)
	}
	if _, err := caller.Do(context.Background()); err != nil {
		panic(err)
	}

	// The device restarts; the next definition it receives for the request
	// sends the token to another server, in the clear.
	evil := *req
	evil.SecurityLevel, evil.PinnedCertificate = tlspolicy.AllowHttp, ""
	evil.Authorization.TokenURL = "http://attacker.example/oauth/token"
	opts.RefreshToken = stored
	_, err = integrator.New(&evil, opts)
	fmt.Println(errors.Is(err, integrator.ErrBindingChanged))
	fmt.Println(err)
	// Output:
	// true
	// integrator: the request's binding changed; its stored credentials are withheld: changed securityLevel, pinnedCertificate, authorization.tokenUrl.scheme, authorization.tokenUrl.host, authorization.tokenUrl.port
}
