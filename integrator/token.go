package integrator

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchsec/latch/internal/reason"
)

// tokenSource holds the OAuthRefreshToken state of one Caller: the stored
// credentials and the binding they were delivered for. It outlives the
// Caller's definitions: [Caller.Rebind] hands it the new definition, which
// gets the credentials only if its binding is the same (adopt).
//
// The refresh token in use is always one that SaveRefreshToken has stored,
// or the one the definition carries. A rotated refresh token is saved
// before the access token that came with it is used; while saving fails,
// the pair waits in pending and saving is tried again on the next call.
type tokenSource struct {
	save func(context.Context, string) error
	now  func() time.Time
	log  *slog.Logger

	// lock is held while refreshing, saving or adopting a definition, so
	// concurrent calls share one refresh; it is a channel so that waiting
	// respects the context.
	lock chan struct{}

	// bound: binding, delivered and refresh hold credentials. legacy:
	// refresh is a bare token from an earlier release, bound to nothing
	// yet. dirty: the state was bound here and must be saved before its
	// refresh token is sent. persisted: the stored form holds this chain
	// (it was loaded or saved), not a definition's own token.
	bound, legacy, dirty, persisted bool

	binding   binding
	delivered string    // digest of the delivering definition's refresh token
	refresh   string    // the refresh token in use
	access    string    // the current access token, or ""
	expiry    time.Time // when access expires; zero if the server did not say
	pending   *pendingTokens

	// shelved is the stored chain that a definition with another binding
	// and a token of its own displaced, while the stored form still holds
	// it: a definition with its binding gets it back, as it would after a
	// restart, and no other definition gets its tokens.
	shelved *stored
}

type pendingTokens struct {
	refresh, access string
	expiry          time.Time
}

func newTokenSource(st *stored, opts Options, log *slog.Logger) *tokenSource {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &tokenSource{save: opts.SaveRefreshToken, now: now, log: log, lock: make(chan struct{}, 1)}
	if st != nil {
		s.bound, s.legacy, s.persisted = !st.legacy, st.legacy, true
		s.binding, s.delivered, s.refresh = st.binding, st.delivered, st.refresh
	}
	return s
}

func (s *tokenSource) acquire(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *tokenSource) release() { <-s.lock }

// adopt decides what a definition gets of the stored credentials; the lock
// is held (or the source is not shared yet). A definition with the same
// binding gets them all. One whose binding differs gets none: it runs with
// the refresh token it carries if that is its own (not the token that
// started the stored chain, nor one stored since), and is refused with a
// *BindingError otherwise, leaving the state as it was. A stored chain
// that a definition's own token displaced is shelved, not forgotten, until
// the new chain is saved: a definition with its binding gets it back.
func (s *tokenSource) adopt(d *definition) error {
	if d.req.Authorization.Type != oauthRefreshToken {
		return nil // it carries its own credential or none; the stored state is kept
	}
	switch {
	case !s.bound && !s.legacy:
		s.start(d)
	case s.legacy:
		// Trust on first use: see "Stored credentials" in the package doc.
		s.bound, s.legacy, s.dirty = true, false, true
		s.binding, s.delivered = d.binding, d.delivered
		s.log.Info("integrator: a refresh token stored by an earlier release is bound to the definition it is first used with")
	case s.binding == d.binding && !s.carriesOwn(d):
		// The same place and no new credential: keep everything.
	case s.shelved != nil && s.shelved.binding == d.binding && !carriesOwn(s.shelved, nil, d):
		// Back to the stored chain's binding: back to the stored chain.
		sh := s.shelved
		s.shelved = nil
		s.bound, s.dirty, s.persisted = true, false, true
		s.binding, s.delivered, s.refresh = sh.binding, sh.delivered, sh.refresh
		s.access, s.expiry, s.pending = "", time.Time{}, nil
	case s.binding == d.binding && s.carriesOwn(d):
		s.log.Info("integrator: the definition carries a new refresh token; it replaces the stored one")
		s.start(d)
	case s.carriesOwn(d):
		s.log.Warn("integrator: the request's binding changed: its stored credentials are withheld, and it runs only with the refresh token it carries",
			"changed", s.binding.changed(&d.binding))
		s.start(d)
	default:
		changed := s.binding.changed(&d.binding)
		s.log.Warn("integrator: refused: the request's binding changed and it carries no refresh token of its own; nothing is sent",
			"changed", changed)
		return bindingError(changed)
	}
	return nil
}

// carriesOwn reports whether the definition's refresh token is none of the
// credentials held: neither the one that started the current chain nor
// one rotated since, nor those of a shelved chain.
func (s *tokenSource) carriesOwn(d *definition) bool {
	cur := &stored{delivered: s.delivered, refresh: s.refresh}
	if !carriesOwn(cur, s.pending, d) {
		return false
	}
	return s.shelved == nil || carriesOwn(s.shelved, nil, d)
}

// carriesOwn reports whether d's refresh token is not of chain c (its
// delivered token, its refresh token, or the pending rotated one).
func carriesOwn(c *stored, pending *pendingTokens, d *definition) bool {
	rt := d.req.Authorization.RefreshToken
	same := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	return !same(d.delivered, c.delivered) && !same(rt, c.refresh) && (pending == nil || !same(rt, pending.refresh))
}

// start makes the definition's own refresh token the state, bound to it.
// It is not saved: the definition carries it until the server rotates it.
// A stored chain it displaces is shelved until the new chain is saved.
func (s *tokenSource) start(d *definition) {
	if s.bound && s.persisted {
		s.shelved = &stored{binding: s.binding, delivered: s.delivered, refresh: s.refresh}
	}
	s.bound, s.legacy, s.dirty, s.persisted = true, false, false, false
	s.binding, s.delivered, s.refresh = d.binding, d.delivered, d.req.Authorization.RefreshToken
	s.access, s.expiry, s.pending = "", time.Time{}, nil
}

// get returns an access token for definition d. A non-empty stale is a
// token the API just refused: if it is still the current one, get
// refreshes. A definition whose binding is not the state's (a call that
// began before a Rebind to another binding) gets a *BindingError.
func (s *tokenSource) get(ctx context.Context, d *definition, stale string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()

	if !s.bound || s.binding != d.binding {
		return "", bindingError(s.binding.changed(&d.binding))
	}
	if s.dirty {
		if err := s.store(ctx, s.refresh); err != nil {
			return "", err
		}
		s.dirty = false
	}
	if s.pending != nil {
		if err := s.promote(ctx); err != nil {
			return "", err
		}
	}
	if s.access != "" && s.access != stale && (s.expiry.IsZero() || s.now().Before(s.expiry.Add(-expiryMargin))) {
		return s.access, nil
	}

	tctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, d.client), tokenTimeout)
	defer cancel()
	issued := s.now()
	tok, err := d.config.TokenSource(tctx, &oauth2.Token{RefreshToken: s.refresh}).Token()
	if err != nil {
		if cerr := tctx.Err(); cerr != nil {
			// Cancelled or timed out, whichever error x/oauth2 made of
			// it: it formats some (a body read cut short) with %v, which
			// loses the context's error from the chain.
			return "", tokenFailure(false, 0, "", cerr)
		}
		return "", tokenError(err)
	}
	p := &pendingTokens{refresh: tok.RefreshToken, access: tok.AccessToken, expiry: expiryOf(tok, issued)}
	if p.refresh == "" || p.refresh == s.refresh {
		// Not rotated: nothing to save.
		s.access, s.expiry = p.access, p.expiry
		return s.access, nil
	}
	if !validVisible(p.refresh, maxToken) {
		return "", tokenFailure(false, 0, "malformed refresh_token", nil)
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
	if err := s.store(ctx, s.pending.refresh); err != nil {
		return err
	}
	s.refresh, s.access, s.expiry = s.pending.refresh, s.pending.access, s.pending.expiry
	s.pending = nil
	return nil
}

// store hands the stored form of refresh, bound to the state's binding, to
// SaveRefreshToken.
func (s *tokenSource) store(ctx context.Context, refresh string) error {
	st := stored{binding: s.binding, delivered: s.delivered, refresh: refresh}
	if err := s.save(ctx, st.marshal()); err != nil {
		return reason.Wrap(ErrPersist, nil, err)
	}
	// The stored form now holds this chain, and no longer a shelved one.
	s.persisted, s.shelved = true, nil
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

// tokenError turns an x/oauth2 error into an ErrReauthorize or
// ErrTokenEndpoint that carries no response body and no URL.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code, status := cleanCode(re.ErrorCode), 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return tokenFailure(reauthCodes[code], status, code, nil)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return tokenFailure(false, 0, "", ue.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return tokenFailure(false, 0, "", err)
	}
	// x/oauth2's own messages about malformed answers; they may quote a
	// fragment of the body, so only their kind is kept.
	return tokenFailure(false, 0, "malformed response", nil)
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
