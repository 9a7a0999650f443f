package tlspolicy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/latchsec/latch/internal/reason"
)

// Transport returns a new HTTP transport that dials every https:// host under
// the policy, with the timeouts of this package and no proxy. At every level
// but AllowHttp, a request to an http:// URL fails with [ErrPlainHTTP] before
// any connection is made.
//
// Each transport keeps its own TLS session cache; resumed sessions are
// checked against the pin like new ones.
func (p Policy) Transport() (*http.Transport, error) {
	c, err := p.compile()
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: dialTimeout}
	sessions := tls.NewLRUClientSessionCache(sessionCacheSize)
	return &http.Transport{
		// No proxy: a proxied https request would be dialled without the
		// per-host configuration below.
		Proxy: nil,
		// DialContext serves plain http:// only, since DialTLSContext
		// serves https://.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if c.level != AllowHttp {
				return nil, reason.Newf(ErrPlainHTTP, nil, c.level.String())
			}
			return dialer.DialContext(ctx, network, addr)
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			cfg, err := c.tlsConfig(host)
			if err != nil {
				return nil, err
			}
			cfg.ClientSessionCache = sessions
			cfg.NextProtos = []string{"h2", "http/1.1"}
			raw, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			conn := tls.Client(raw, cfg)
			hctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
			defer cancel()
			if err := conn.HandshakeContext(hctx); err != nil {
				raw.Close()
				return nil, err
			}
			return conn, nil
		},
		// TLSHandshakeTimeout is not set: net/http ignores it when
		// DialTLSContext is set, which bounds the handshake itself.
		ForceAttemptHTTP2:     true,
		ResponseHeaderTimeout: responseHeaderTimeout,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: expectContinueTimeout,
		MaxIdleConnsPerHost:   4,
	}, nil
}

// Client returns a new HTTP client over [Policy.Transport] with an overall
// timeout. It follows at most a few redirects, and only those that stay on
// the same host and port and do not go from https to http (http to https on
// the default ports is allowed), so an Authorization header or a token in
// the body never follows a redirect elsewhere; any other redirect fails with
// [ErrRedirectRefused].
func (p Policy) Client() (*http.Client, error) {
	t, err := p.Transport()
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Transport:     t,
		Timeout:       clientTimeout,
		CheckRedirect: checkRedirect,
	}, nil
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return reason.Newf(ErrRedirectRefused, nil, fmt.Sprintf("more than %d redirects", maxRedirects))
	}
	from, to := via[0].URL, req.URL
	if !strings.EqualFold(from.Hostname(), to.Hostname()) {
		return reason.Newf(ErrRedirectRefused, nil, "to another host")
	}
	fromPort, toPort := effectivePort(from.Scheme, from.Port()), effectivePort(to.Scheme, to.Port())
	switch {
	case to.Scheme != "http" && to.Scheme != "https":
		return reason.Newf(ErrRedirectRefused, nil, fmt.Sprintf("to scheme %q", truncate([]byte(to.Scheme), 16)))
	case from.Scheme == "https" && to.Scheme == "http":
		return reason.Newf(ErrRedirectRefused, nil, "from https to http")
	case from.Scheme == to.Scheme && fromPort != toPort:
		return reason.Newf(ErrRedirectRefused, nil, "to another port")
	case from.Scheme != to.Scheme && (fromPort != "80" || toPort != "443"):
		// http to https, allowed only between the default ports.
		return reason.Newf(ErrRedirectRefused, nil, "to another port")
	}
	return nil
}

func effectivePort(scheme, port string) string {
	if port != "" {
		return port
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}
