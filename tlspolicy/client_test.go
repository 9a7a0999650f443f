package tlspolicy

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/stretchr/testify/require"
)

// httpServer is an httptest server that counts the connections it accepted
// and the Authorization headers it saw.
type httpServer struct {
	*httptest.Server
	conns, auths atomic.Int64
}

func startHTTP(t *testing.T, cert *tls.Certificate, h http.HandlerFunc) *httpServer {
	t.Helper()
	s := &httpServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			s.auths.Add(1)
		}
		if h != nil {
			h(w, r)
			return
		}
		_, _ = io.WriteString(w, r.Proto)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.EnableHTTP2 = cert != nil
	testpki.Start(t, s.Server, cert)
	return s
}

// localhostURL rewrites an httptest URL (http://127.0.0.1:port) to name
// localhost instead.
func localhostURL(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer test-credential")
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

func allLevels(t *testing.T, p *pki) []Policy {
	return []Policy{
		{SecurityLevel: TlsWithCACheck, RootCAs: p.root.Pool(), Time: testpki.Clock},
		{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: p.inter.PEM(), Time: testpki.Clock},
		{SecurityLevel: TlsAllowSelfSigned},
		{SecurityLevel: AllowHttp},
	}
}

func TestClientHTTPSAtEveryLevel(t *testing.T) {
	p := newPKI(t)
	cert := p.leaf.TLS(p.inter)
	srv := startHTTP(t, &cert, nil)
	for _, pol := range allLevels(t, p) {
		t.Run(pol.SecurityLevel.String(), func(t *testing.T) {
			c, err := pol.Client()
			require.NoError(t, err)
			resp, err := get(t, c, localhostURL(srv.URL))
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, "HTTP/2.0", string(body), "HTTP/2 is negotiated over the policy's TLS")
			require.NotNil(t, resp.TLS)
		})
	}
}

func TestClientPinRefusedOverHTTP(t *testing.T) {
	p := newPKI(t)
	other := testpki.New(t, testpki.Options{CA: true}, nil)
	cert := p.leaf.TLS(p.inter)
	srv := startHTTP(t, &cert, nil)
	c, err := Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: other.PEM(), Time: testpki.Clock}.Client()
	require.NoError(t, err)
	_, err = get(t, c, localhostURL(srv.URL))
	require.ErrorIs(t, err, ErrPinMismatch)
	require.Zero(t, srv.auths.Load(), "no request reached the server")
}

func TestClientPlainHTTP(t *testing.T) {
	p := newPKI(t)
	for _, pol := range allLevels(t, p) {
		t.Run(pol.SecurityLevel.String(), func(t *testing.T) {
			srv := startHTTP(t, nil, nil)
			c, err := pol.Client()
			require.NoError(t, err)
			resp, err := get(t, c, srv.URL)
			if pol.SecurityLevel == AllowHttp {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				return
			}
			require.ErrorIs(t, err, ErrPlainHTTP)
			require.Zero(t, srv.conns.Load(), "no connection is made for a refused http:// URL")

			// The transport alone refuses too.
			tr, err := pol.Transport()
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
			require.NoError(t, err)
			_, err = tr.RoundTrip(req)
			require.ErrorIs(t, err, ErrPlainHTTP)
			require.Zero(t, srv.conns.Load())
		})
	}
}

func TestClientRedirects(t *testing.T) {
	p := newPKI(t)
	cert := p.leaf.TLS(p.inter)
	plain := startHTTP(t, nil, nil)
	otherTLS := startHTTP(t, &cert, nil)

	var target atomic.Pointer[string]
	redirector := startHTTP(t, &cert, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/final":
			_, _ = io.WriteString(w, "final")
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			http.Redirect(w, r, *target.Load(), http.StatusTemporaryRedirect)
		}
	})
	base := localhostURL(redirector.URL)

	cases := []struct {
		name, target string
		ok           bool
	}{
		{"same host and port", base + "/final", true},
		{"relative", "/final", true},
		{"https to http, same host", strings.Replace(base, "https://", "http://", 1) + "/final", false},
		{"https to http, other server", plain.URL + "/final", false},
		{"other host name, same server", redirector.URL + "/final", false},
		{"other port", localhostURL(otherTLS.URL) + "/final", false},
		{"too many", "/loop", false},
	}
	for _, pol := range allLevels(t, p) {
		for _, tc := range cases {
			t.Run(pol.SecurityLevel.String()+"/"+tc.name, func(t *testing.T) {
				target.Store(&tc.target)
				c, err := pol.Client()
				require.NoError(t, err)
				before := plain.auths.Load() + otherTLS.auths.Load() + plain.conns.Load()
				resp, err := get(t, c, base+"/start")
				if tc.ok {
					require.NoError(t, err)
					body, _ := io.ReadAll(resp.Body)
					require.Equal(t, "final", string(body))
					return
				}
				require.ErrorIs(t, err, ErrRedirectRefused)
				require.Equal(t, before, plain.auths.Load()+otherTLS.auths.Load()+plain.conns.Load(),
					"nothing reached the redirect's target")
			})
		}
	}
}

func TestCheckRedirectTable(t *testing.T) {
	mk := func(u string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		return r
	}
	cases := []struct {
		from, to string
		ok       bool
	}{
		{"https://api.example/a", "https://api.example/b", true},
		{"https://api.example/a", "https://API.EXAMPLE/b", true},
		{"https://api.example/a", "https://api.example:443/b", true},
		{"https://api.example:8443/a", "https://api.example:8443/b", true},
		{"http://api.example/a", "https://api.example/b", true},
		{"http://api.example:8080/a", "https://api.example/b", false},
		{"http://api.example/a", "https://api.example:8443/b", false},
		{"https://api.example/a", "http://api.example/b", false},
		{"https://api.example/a", "https://evil.example/b", false},
		{"https://api.example/a", "https://api.example.evil/b", false},
		{"https://api.example/a", "https://api.example:444/b", false},
		{"https://api.example/a", "ftp://api.example/b", false},
		{"http://api.example/a", "ftp://api.example/b", false},
		{"http://api.example/a", "file:///etc/passwd", false},
	}
	for _, tc := range cases {
		err := checkRedirect(mk(tc.to), []*http.Request{mk(tc.from)})
		if tc.ok {
			require.NoError(t, err, "%s -> %s", tc.from, tc.to)
		} else {
			require.ErrorIs(t, err, ErrRedirectRefused, "%s -> %s", tc.from, tc.to)
		}
	}
}

func TestClientTimeouts(t *testing.T) {
	c, err := Policy{}.Client()
	require.NoError(t, err)
	require.Equal(t, clientTimeout, c.Timeout)
	tr := c.Transport.(*http.Transport)
	require.Equal(t, responseHeaderTimeout, tr.ResponseHeaderTimeout)
	require.Nil(t, tr.Proxy, "no proxy: every https host is dialled under the policy")
}
