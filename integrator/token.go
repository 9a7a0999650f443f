package integrator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// tokenSource holds the OAuthRefreshToken state of one Caller.
//
// The refresh token in use is always one that SaveRefreshToken has stored,
// or the one the device started with. A rotated refresh token is saved
// before the access token that came with it is used; while saving fails,
// the pair waits in pending and saving is tried again on the next call.
type tokenSource struct {
	config *oauth2.Config
	client *http.Client
	save   func(context.Context, string) error
	now    func() time.Time

	// lock is held while refreshing or saving, so concurrent calls share
	// one refresh; it is a channel so that waiting respects the context.
	lock chan struct{}

	refresh string    // the stored refresh token
	access  string    // the current access token, or ""
	expiry  time.Time // when access expires; zero if the server did not say
	pending *pendingTokens
}

type pendingTokens struct {
	refresh, access string
	expiry          time.Time
}

func newTokenSource(a *Authorization, opts Options, client *http.Client) *tokenSource {
	refresh := opts.RefreshToken
	if refresh == "" {
		refresh = a.RefreshToken
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &tokenSource{
		config: &oauth2.Config{
			ClientID:     a.ClientID,
			ClientSecret: a.ClientSecret,
			Scopes:       a.Scopes,
			Endpoint: oauth2.Endpoint{
				TokenURL:  a.TokenURL,
				AuthStyle: a.AuthStyle.oauth2(a.ClientSecret != ""),
			},
		},
		client:  client,
		save:    opts.SaveRefreshToken,
		now:     now,
		lock:    make(chan struct{}, 1),
		refresh: refresh,
	}
}

// get returns an access token to use. A non-empty stale is a token the API
// just refused: if it is still the current one, get refreshes.
func (s *tokenSource) get(ctx context.Context, stale string) (string, error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.lock }()

	if s.pending != nil {
		if err := s.promote(ctx); err != nil {
			return "", err
		}
	}
	if s.access != "" && s.access != stale && (s.expiry.IsZero() || s.now().Before(s.expiry.Add(-expiryMargin))) {
		return s.access, nil
	}

	tctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, s.client), tokenTimeout)
	defer cancel()
	issued := s.now()
	tok, err := s.config.TokenSource(tctx, &oauth2.Token{RefreshToken: s.refresh}).Token()
	if err != nil {
		return "", tokenError(err)
	}
	p := &pendingTokens{refresh: tok.RefreshToken, access: tok.AccessToken, expiry: expiryOf(tok, issued)}
	if p.refresh == "" || p.refresh == s.refresh {
		// Not rotated: nothing to save.
		s.access, s.expiry = p.access, p.expiry
		return s.access, nil
	}
	if !validVisible(p.refresh, maxToken) {
		return "", &TokenError{Code: "malformed refresh_token"}
	}
	s.pending = p
	s.access, s.expiry = "", time.Time{}
	if err := s.promote(ctx); err != nil {
		return "", err
	}
	return s.access, nil
}

// promote saves the pending refresh token and, once it is stored, makes the
// pending pair current.
func (s *tokenSource) promote(ctx context.Context) error {
	if err := s.save(ctx, s.pending.refresh); err != nil {
		return fmt.Errorf("%w: %w", ErrPersist, err)
	}
	s.refresh, s.access, s.expiry = s.pending.refresh, s.pending.access, s.pending.expiry
	s.pending = nil
	return nil
}

// expiryOf computes the access token's expiry with the injected clock from
// the server's expires_in, capped.
func expiryOf(tok *oauth2.Token, issued time.Time) time.Time {
	switch {
	case tok.ExpiresIn > 0:
		d := time.Duration(tok.ExpiresIn) * time.Second
		if tok.ExpiresIn > int64(maxExpiresIn/time.Second) {
			d = maxExpiresIn
		}
		return issued.Add(d)
	case !tok.Expiry.IsZero():
		return tok.Expiry // from a form-encoded answer, computed by x/oauth2
	}
	return time.Time{}
}

// reauthCodes are RFC 6749 section 5.2 errors after which the same request
// will never succeed.
var reauthCodes = map[string]bool{
	"invalid_grant": true, "invalid_client": true, "unauthorized_client": true, "invalid_scope": true,
}

// tokenError turns an x/oauth2 error into a TokenError that carries no
// response body and no URL.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Code: cleanCode(re.ErrorCode)}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		te.reauth = reauthCodes[te.Code]
		return te
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &TokenError{cause: ue.Err}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &TokenError{cause: err}
	}
	// x/oauth2's own messages about malformed answers; they may quote a
	// fragment of the body, so only their kind is kept.
	return &TokenError{Code: "malformed response"}
}

// cleanCode keeps an RFC 6749 error code as it should be (letters and
// underscores), so a hostile server cannot put text in our errors.
func cleanCode(code string) string {
	if len(code) > 64 {
		return "unrecognized"
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r == '_' || r >= 'A' && r <= 'Z') {
			return "unrecognized"
		}
	}
	return strings.ToLower(code)
}
