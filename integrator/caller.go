package integrator

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/tlspolicy"
)

// Options are the device's side of executing a request. The zero value is
// fine for NoAuth and OAuthAccessToken; OAuthRefreshToken needs
// SaveRefreshToken.
type Options struct {
	// RefreshToken is what SaveRefreshToken last saved for this request,
	// as it was given: the stored form, which holds the refresh token and
	// the binding of the definition that delivered it. A bare refresh
	// token, as earlier releases saved, is read too and bound to the first
	// definition it is used with (see the package doc). Empty means nothing
	// is stored: the definition's own refresh token is used.
	RefreshToken string

	// SaveRefreshToken stores the stored form of the request's refresh
	// token: a string of at most a few KiB, to be given back as is in
	// RefreshToken. It is called before a refresh token that the server
	// rotated is used, and before a bare refresh token from an earlier
	// release is first used; until it returns nil, the call fails with
	// ErrPersist and the new token is not used. Store it durably (flash,
	// not RAM) before returning: after a rotation the old refresh token
	// may stop working at any moment.
	SaveRefreshToken func(ctx context.Context, stored string) error

	// MaxResponseBody caps how much of a response body is read; zero means
	// 1 MiB.
	MaxResponseBody int64

	// RootCAs replaces the system roots at TlsWithCACheck. Nil means the
	// system roots.
	RootCAs *x509.CertPool

	// Now returns the current time, for token expiry and certificate
	// validity. Nil means time.Now.
	Now func() time.Time

	// Log receives the refusals of stored credentials to a changed
	// binding (naming the changed fields, never values). Nil means
	// slog.Default().
	Log *slog.Logger
}

// Caller executes one request, defined by one definition at a time. It
// holds the HTTP client for the definition's security level and, for
// OAuthRefreshToken, the access token and refresh token between calls,
// bound to where the definition sends them. It is safe for concurrent use;
// concurrent calls share one refresh.
type Caller struct {
	opts    Options
	maxBody int64
	def     atomic.Pointer[definition]
	tokens  *tokenSource
}

// definition is a validated request with what executing it needs. It is
// never changed once made; Rebind swaps it whole.
type definition struct {
	req     *Request // a copy, so the caller cannot change it under us
	client  *http.Client
	binding binding
	// OAuthRefreshToken only: the x/oauth2 client configuration and the
	// digest of the definition's refresh token.
	config    *oauth2.Config
	delivered string
}

// Response is an API's answer, with the body read up to the cap.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// New validates req and prepares to execute it. It reads the stored form
// in opts.RefreshToken ([ErrStoredState] if it is malformed) and, for
// OAuthRefreshToken, if the definition's binding differs from the stored
// one and the definition carries no refresh token of its own, refuses with
// a *[BindingError] ([ErrBindingChanged]) before anything is sent.
func New(req *Request, opts Options) (*Caller, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	c := &Caller{opts: opts, maxBody: opts.MaxResponseBody}
	c.opts.RefreshToken = "" // read once below; the Caller keeps no copy of it
	if c.maxBody <= 0 {
		c.maxBody = defaultMaxResponseBody
	}
	d, err := c.define(req)
	if err != nil {
		return nil, err
	}
	st, err := parseStored(opts.RefreshToken)
	if err != nil {
		return nil, err
	}
	c.tokens = newTokenSource(st, opts, opts.Log)
	if err := c.tokens.adopt(d); err != nil {
		return nil, err
	}
	c.def.Store(d)
	return c, nil
}

// Rebind replaces the Caller's definition with req, a new definition of the
// same request (the integrator changed it, or the app delivered it again),
// keeping the credentials the Caller holds if req's binding is the same.
// If the binding differs, req gets none of them: it runs with the refresh
// token it carries if that is its own, and is refused with a
// *[BindingError] otherwise. On any error the Caller keeps its definition
// and credentials as they were. Calls that began under the old definition
// finish with it, or fail with ErrBindingChanged if they still needed the
// credentials that are now bound elsewhere.
func (c *Caller) Rebind(ctx context.Context, req *Request) error {
	d, err := c.define(req)
	if err != nil {
		return err
	}
	if err := c.tokens.acquire(ctx); err != nil {
		return err
	}
	defer c.tokens.release()
	if err := c.tokens.adopt(d); err != nil {
		return err
	}
	c.def.Store(d)
	return nil
}

// define validates a copy of req and prepares what executing it needs.
func (c *Caller) define(req *Request) (*definition, error) {
	r := *req
	r.Headers = slices.Clone(req.Headers)
	r.Authorization.Scopes = slices.Clone(req.Authorization.Scopes)
	if err := r.Validate(); err != nil {
		return nil, err
	}
	policy := tlspolicy.Policy{
		SecurityLevel:     r.SecurityLevel,
		PinnedCertificate: r.PinnedCertificate,
		RootCAs:           c.opts.RootCAs,
		Time:              c.opts.Now,
	}
	client, err := policy.Client()
	if err != nil {
		return nil, err
	}
	d := &definition{req: &r, client: client, binding: bindingOf(&r)}
	if a := &r.Authorization; a.Type == oauthRefreshToken {
		if c.opts.SaveRefreshToken == nil {
			return nil, reason.Newf(ErrPersist, nil, "OAuthRefreshToken needs Options.SaveRefreshToken")
		}
		d.delivered = tokenDigest(a.RefreshToken)
		d.config = &oauth2.Config{
			ClientID:     a.ClientID,
			ClientSecret: a.ClientSecret,
			Scopes:       a.Scopes,
			Endpoint: oauth2.Endpoint{
				TokenURL:  a.TokenURL,
				AuthStyle: oauth2Style(a.style()),
			},
		}
	}
	return d, nil
}

// Do sends the request and reads the response. For OAuthRefreshToken it gets
// an access token first (reusing the last one until shortly before it
// expires) and, if the API answers 401, refreshes once and sends the request
// once more.
//
// A response of any status is returned without error; errors are for
// requests that could not be made or answers that could not be read:
// ErrRequestFailed (wrapping the tlspolicy or network error, or for a body
// over the cap), ErrReauthorize, ErrTokenEndpoint, ErrPersist,
// ErrBindingChanged.
func (c *Caller) Do(ctx context.Context) (*Response, error) {
	d := c.def.Load()
	refresh := d.req.Authorization.Type == oauthRefreshToken
	var token string
	if refresh {
		var err error
		if token, err = c.tokens.get(ctx, d, ""); err != nil {
			return nil, err
		}
	}
	resp, err := c.send(ctx, d, token)
	if err != nil || !refresh || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The API refused the access token: it may have been revoked or have
	// expired early. Refresh once (unless another call already did) and
	// try once more.
	if token, err = c.tokens.get(ctx, d, token); err != nil {
		return nil, err
	}
	return c.send(ctx, d, token)
}

func (c *Caller) send(ctx context.Context, d *definition, bearer string) (*Response, error) {
	var body io.Reader
	if d.req.Body != "" {
		body = strings.NewReader(d.req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, d.req.Method, d.req.URL, body)
	if err != nil {
		return nil, reason.Newf(ErrRequestFailed, nil, "cannot build the request")
	}
	for _, h := range d.req.Headers {
		hr.Header.Add(h.Name, h.Value)
	}
	switch d.req.Authorization.Type {
	case oauthAccessToken:
		hr.Header.Set("Authorization", "Bearer "+d.req.Authorization.AccessToken)
	case oauthRefreshToken:
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := d.client.Do(hr)
	if err != nil {
		return nil, requestError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, requestError(err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, reason.Newf(ErrRequestFailed, errResponseTooLarge, fmt.Sprintf("more than %d bytes", c.maxBody))
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// requestError wraps a client error without its URL, whose query may hold a
// credential.
func requestError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return reason.Wrap(ErrRequestFailed, nil, err)
}
