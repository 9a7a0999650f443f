package integrator

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchsec/latch/tlspolicy"
)

// Options are the device's side of executing a request. The zero value is
// fine for NoAuth and OAuthAccessToken; OAuthRefreshToken needs
// SaveRefreshToken.
type Options struct {
	// RefreshToken is the device's current refresh token, as last saved by
	// SaveRefreshToken. Empty means the one in the request definition, which
	// is right only until the server first rotates it.
	RefreshToken string

	// SaveRefreshToken stores a refresh token that the server rotated. It is
	// called before the new access token is used; until it returns nil, the
	// call fails with ErrPersist and the new token is not used. Store the
	// token durably (flash, not RAM) before returning: after a rotation the
	// old refresh token may stop working at any moment.
	SaveRefreshToken func(ctx context.Context, refreshToken string) error

	// MaxResponseBody caps how much of a response body is read; zero means
	// DefaultMaxResponseBody.
	MaxResponseBody int64

	// RootCAs replaces the system roots at TlsWithCACheck. Nil means the
	// system roots.
	RootCAs *x509.CertPool

	// Now returns the current time, for token expiry and certificate
	// validity. Nil means time.Now.
	Now func() time.Time
}

// Caller executes one request definition. It holds the HTTP client for the
// request's security level and, for OAuthRefreshToken, the access token and
// refresh token between calls. It is safe for concurrent use; concurrent
// calls share one refresh.
type Caller struct {
	req     *Request
	client  *http.Client
	maxBody int64
	tokens  *tokenSource // OAuthRefreshToken only
}

// Response is an API's answer, with the body read up to the cap.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// New validates req and prepares to execute it.
func New(req *Request, opts Options) (*Caller, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	policy := tlspolicy.Policy{
		SecurityLevel:     req.SecurityLevel,
		PinnedCertificate: req.PinnedCertificate,
		RootCAs:           opts.RootCAs,
		Time:              opts.Now,
	}
	client, err := policy.Client()
	if err != nil {
		return nil, err
	}
	c := &Caller{req: req, client: client, maxBody: opts.MaxResponseBody}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBody
	}
	if req.Authorization.Type == OAuthRefreshToken {
		if opts.SaveRefreshToken == nil {
			return nil, errors.New("integrator: OAuthRefreshToken needs Options.SaveRefreshToken")
		}
		if opts.RefreshToken != "" && !validVisible(opts.RefreshToken, maxToken) {
			return nil, errors.New("integrator: Options.RefreshToken is not a valid refresh token")
		}
		c.tokens = newTokenSource(&req.Authorization, opts, client)
	}
	return c, nil
}

// Do sends the request and reads the response. For OAuthRefreshToken it gets
// an access token first (reusing the last one until shortly before it
// expires) and, if the API answers 401, refreshes once and sends the request
// once more.
//
// A response of any status is returned without error; errors are for
// requests that could not be made: ErrRequestFailed (wrapping the tlspolicy
// or network error), ErrResponseTooLarge, ErrReauthorize, ErrTokenEndpoint,
// ErrPersist.
func (c *Caller) Do(ctx context.Context) (*Response, error) {
	var token string
	if c.tokens != nil {
		var err error
		if token, err = c.tokens.get(ctx, ""); err != nil {
			return nil, err
		}
	}
	resp, err := c.send(ctx, token)
	if err != nil || c.tokens == nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The API refused the access token: it may have been revoked or have
	// expired early. Refresh once (unless another call already did) and
	// try once more.
	if token, err = c.tokens.get(ctx, token); err != nil {
		return nil, err
	}
	return c.send(ctx, token)
}

func (c *Caller) send(ctx context.Context, bearer string) (*Response, error) {
	var body io.Reader
	if c.req.Body != "" {
		body = strings.NewReader(c.req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, c.req.Method, c.req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot build the request", ErrRequestFailed)
	}
	for _, h := range c.req.Headers {
		hr.Header.Add(h.Name, h.Value)
	}
	switch c.req.Authorization.Type {
	case OAuthAccessToken:
		hr.Header.Set("Authorization", "Bearer "+c.req.Authorization.AccessToken)
	case OAuthRefreshToken:
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.client.Do(hr)
	if err != nil {
		return nil, requestError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, requestError(err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, c.maxBody)
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
	return fmt.Errorf("%w: %w", ErrRequestFailed, err)
}
