package integrator_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
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
		Authorization: integrator.Authorization{Type: integrator.OAuthAccessToken, AccessToken: "at-42"},
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
			Type: integrator.OAuthRefreshToken, RefreshToken: "rt-1",
			TokenURL: url + "/oauth/token", ClientID: "door-device", ClientSecret: "s3cret",
		},
	}
	stored := "rt-1" // in real firmware: read from flash at start
	caller, err := integrator.New(req, integrator.Options{
		RefreshToken: stored,
		SaveRefreshToken: func(ctx context.Context, rt string) error {
			stored = rt // in real firmware: write to flash, then return
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
	fmt.Println("used", string(resp.Body), "stored", stored)
	// Output: used at-1 stored rt-2
}
