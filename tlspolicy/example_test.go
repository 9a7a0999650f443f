package tlspolicy_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/latchsec/latch/tlspolicy"
)

// A device calls an integrator's API on the internet: the certificate must
// chain to a trusted root and name the host. Here the root is the test
// server's own; a real device leaves RootCAs nil to use the system roots.
func ExamplePolicy_Client_caCheck() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	client, err := tlspolicy.Policy{SecurityLevel: tlspolicy.TlsWithCACheck, RootCAs: roots}.Client()
	if err != nil {
		panic(err)
	}
	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

// A device calls an API on the local network whose certificate it pinned
// when it was set up. The pinned certificate identifies the server, so the
// device may reach it by an address the certificate does not name.
func ExamplePolicy_Client_pinnedCertificate() {
	// The local API makes its certificate once and keeps its key.
	now := time.Now()
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"hub.local"}, now.Add(-time.Hour), now.AddDate(10, 0, 0))
	if err != nil {
		panic(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()

	// The device's policy, as it arrives in a request definition.
	var p tlspolicy.Policy
	def := fmt.Sprintf(`{"securityLevel":"TlsPinnedCertificate","pinnedCertificate":%q}`, certPEM)
	if err := json.Unmarshal([]byte(def), &p); err != nil {
		panic(err)
	}
	client, err := p.Client()
	if err != nil {
		panic(err)
	}
	resp, err := client.Get(srv.URL) // https://127.0.0.1:port
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

// TlsAllowSelfSigned accepts any certificate: traffic is encrypted, but the
// server is not authenticated.
func ExamplePolicy_Client_allowSelfSigned() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	client, err := tlspolicy.Policy{SecurityLevel: tlspolicy.TlsAllowSelfSigned}.Client()
	if err != nil {
		panic(err)
	}
	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)

	// Plain http is refused at this level before any connection is made.
	_, err = client.Get(strings.Replace(srv.URL, "https://", "http://", 1))
	fmt.Println(errors.Is(err, tlspolicy.ErrPlainHTTP))
	// Output:
	// 200 OK
	// true
}

// AllowHttp is the only level that sends plain http.
func ExamplePolicy_Client_allowHttp() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	client, err := tlspolicy.Policy{SecurityLevel: tlspolicy.AllowHttp}.Client()
	if err != nil {
		panic(err)
	}
	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

// Policies come from JSON; unknown level names and bad pins are refused.
func ExamplePolicy_Validate() {
	for _, def := range []string{
		`{"securityLevel":"TlsAllowSelfSigned"}`,
		`{"securityLevel":"Insecure"}`,
		`{"securityLevel":"TlsPinnedCertificate"}`,
	} {
		var p tlspolicy.Policy
		err := json.Unmarshal([]byte(def), &p)
		if err == nil {
			err = p.Validate()
		}
		fmt.Println(err == nil, errors.Is(err, tlspolicy.ErrUnknownLevel), errors.Is(err, tlspolicy.ErrInvalidPin))
	}
	// Output:
	// true false false
	// false true false
	// false false true
}
