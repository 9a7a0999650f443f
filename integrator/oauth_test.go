package integrator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/stretchr/testify/require"
)

// oauthSetup is an API and its token endpoint, both serving one self-signed
// certificate that the device pins, so tokens are fetched under the pin too.
type oauthSetup struct {
	ev    *events
	auth  *authServer
	api   *httptest.Server
	req   Request
	clock *clock
	saved []string // the refresh tokens saved
	forms []string // the stored forms saved
	mu    sync.Mutex
	fail  atomic.Bool // SaveRefreshToken fails while set
}

func newOAuthSetup(t *testing.T) *oauthSetup {
	cert, pin := selfSigned(t)
	s := &oauthSetup{ev: &events{}, clock: newClock()}
	s.auth = newAuthServer(t, s.ev, &cert, "rt-0")
	s.api = apiServer(t, s.ev, &cert, s.auth)
	s.req = Request{
		Method: "POST", URL: s.api.URL + "/doors/12/open", Body: "open",
		SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: pin,
		Authorization: Authorization{
			Type: oauthRefreshToken, RefreshToken: "rt-0", TokenURL: s.auth.URL + "/token",
			ClientID: s.auth.clientID, ClientSecret: s.auth.secret, Scopes: []string{"doors"},
		},
	}
	return s
}

func (s *oauthSetup) options() Options {
	return Options{Now: s.clock.Now, Log: discardLog, SaveRefreshToken: func(_ context.Context, form string) error {
		st, err := parseStored(form)
		if err != nil || st == nil || st.legacy {
			return fmt.Errorf("saved something other than the stored form: %v", err)
		}
		rt := st.refresh
		if s.fail.Load() {
			s.ev.add("save %s failed", rt)
			return errors.New("flash write failed")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.saved = append(s.saved, rt)
		s.forms = append(s.forms, form)
		s.ev.add("save %s", rt)
		return nil
	}}
}

func (s *oauthSetup) stored() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.saved) == 0 {
		return ""
	}
	return s.saved[len(s.saved)-1]
}

// storedForm is the last stored form saved, as the device would give it
// back in Options.RefreshToken after a restart.
func (s *oauthSetup) storedForm() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.forms) == 0 {
		return ""
	}
	return s.forms[len(s.forms)-1]
}

func do(t *testing.T, c *Caller) *Response {
	t.Helper()
	resp, err := c.Do(context.Background())
	require.NoError(t, err)
	return resp
}

func TestRefreshObtainsAndReusesAccessToken(t *testing.T) {
	s := newOAuthSetup(t)
	c := mustNew(t, &s.req, s.options())
	for range 3 {
		require.Equal(t, http.StatusOK, do(t, c).StatusCode)
	}
	require.Equal(t, 1, s.auth.tokenCalls(), "one access token serves all three calls")
	require.Equal(t, []string{
		"token rt-0 -> at-1",
		"api POST /doors/12/open at-1",
		"api POST /doors/12/open at-1",
		"api POST /doors/12/open at-1",
	}, s.ev.all())

	// Shortly before it expires, the token is refreshed.
	s.clock.Advance(time.Hour - expiryMargin - time.Second)
	do(t, c)
	require.Equal(t, 1, s.auth.tokenCalls())
	s.clock.Advance(2 * time.Second)
	do(t, c)
	require.Equal(t, 2, s.auth.tokenCalls())
}

func TestRotationSavedBeforeUse(t *testing.T) {
	s := newOAuthSetup(t)
	s.auth.rotate = true
	c := mustNew(t, &s.req, s.options())
	do(t, c)
	s.clock.Advance(2 * time.Hour)
	do(t, c)
	require.Equal(t, []string{
		"token rt-0 -> at-1", "save rt-1", "api POST /doors/12/open at-1",
		"token rt-1 -> at-2", "save rt-2", "api POST /doors/12/open at-2",
	}, s.ev.all())
	require.Equal(t, "rt-2", s.stored())
}

func TestSaveFailureKeepsStoredTokenUsable(t *testing.T) {
	s := newOAuthSetup(t)
	s.auth.rotate = true
	s.fail.Store(true)
	c := mustNew(t, &s.req, s.options())

	_, err := c.Do(context.Background())
	require.ErrorIs(t, err, ErrPersist)
	require.NotContains(t, err.Error(), "rt-1")
	require.Equal(t, []string{"token rt-0 -> at-1", "save rt-1 failed"}, s.ev.all(),
		"the new access token was not used")

	// The device crashes now. It restarts with what it had stored: the
	// original token, which still refreshes.
	restarted := mustNew(t, &s.req, s.options())
	s.fail.Store(false)
	do(t, restarted)
	require.Equal(t, "rt-2", s.stored())

	// Had it not crashed, the next call saves the pending token first and
	// uses the access token that came with it, without a second refresh.
	s2 := newOAuthSetup(t)
	s2.auth.rotate = true
	s2.fail.Store(true)
	c2 := mustNew(t, &s2.req, s2.options())
	_, err = c2.Do(context.Background())
	require.ErrorIs(t, err, ErrPersist)
	s2.fail.Store(false)
	do(t, c2)
	require.Equal(t, []string{"token rt-0 -> at-1", "save rt-1 failed", "save rt-1", "api POST /doors/12/open at-1"}, s2.ev.all())
}

func TestStartsFromStoredRefreshToken(t *testing.T) {
	s := newOAuthSetup(t)
	s.auth.rotate = true
	do(t, mustNew(t, &s.req, s.options()))
	s.clock.Advance(2 * time.Hour)
	do(t, mustNew(t, &s.req, s.options())) // a restart, without Options.RefreshToken: the definition's rt-0 is in grace
	opts := s.options()
	opts.RefreshToken = s.storedForm()
	do(t, mustNew(t, &s.req, opts))
	require.Contains(t, s.ev.all(), "token rt-2 -> at-3", "the restarted device used the stored token")
}

func TestRevokedGrantNeedsReauthorization(t *testing.T) {
	s := newOAuthSetup(t)
	c := mustNew(t, &s.req, s.options())
	do(t, c)
	s.auth.mu.Lock()
	s.auth.revoked = true
	s.auth.mu.Unlock()
	s.clock.Advance(2 * time.Hour)
	_, err := c.Do(context.Background())
	require.ErrorIs(t, err, ErrReauthorize)
	require.NotErrorIs(t, err, ErrTokenEndpoint)
	require.Contains(t, err.Error(), "status 400: invalid_grant")
	require.NotContains(t, err.Error(), "rt-0", "the server's description, which quotes the token, is not in the error")

	// A wrong client secret is invalid_client: re-link too.
	s2 := newOAuthSetup(t)
	s2.req.Authorization.ClientSecret = "wrong-" + secretClient
	_, err = mustNew(t, &s2.req, s2.options()).Do(context.Background())
	require.ErrorIs(t, err, ErrReauthorize)
	requireNoSecret(t, err.Error())
}

func TestAPI401RefreshesExactlyOnce(t *testing.T) {
	s := newOAuthSetup(t)
	c := mustNew(t, &s.req, s.options())
	do(t, c)
	s.auth.revokeAccess("at-1") // the API stops accepting the token early
	resp := do(t, c)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, s.auth.tokenCalls())
	require.Equal(t, []string{
		"token rt-0 -> at-1", "api POST /doors/12/open at-1",
		"api POST /doors/12/open at-1", "token rt-0 -> at-2", "api POST /doors/12/open at-2",
	}, s.ev.all())

	// An API that refuses every token: one refresh, one retry, then its 401.
	s.auth.mu.Lock()
	s.auth.refuseAll = true
	s.auth.expiresIn = 0 // and the token endpoint gives no expiry
	s.auth.mu.Unlock()
	before := s.auth.tokenCalls()
	resp = do(t, c)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, before+1, s.auth.tokenCalls())
}

func TestConcurrentCallsShareOneRefresh(t *testing.T) {
	s := newOAuthSetup(t)
	s.auth.rotate = true
	c := mustNew(t, &s.req, s.options())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			resp, err := c.Do(context.Background())
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, s.auth.tokenCalls())
	require.Equal(t, []string{"rt-1"}, s.saved)
}

// TestTokenEndpointFaults: answers a real server would not give.
func TestTokenEndpointFaults(t *testing.T) {
	cert, pin := selfSigned(t)
	otherHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect was followed to another host")
	}))
	t.Cleanup(otherHost.Close)
	arrived := make(chan struct{}, 1)

	faults := map[string]http.HandlerFunc{
		"500": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "refresh_token="+secretRefresh, http.StatusInternalServerError)
		},
		"malformed JSON": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"`+secretToken+`",`)
		},
		"no access token": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer"}`)
		},
		"huge body": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"`+secretToken+`","x":"`+strings.Repeat("a", 2<<20)+`"}`)
		},
		"redirect to another host": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, otherHost.URL+"/token", http.StatusTemporaryRedirect)
		},
		"error code with text": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"`+secretToken+` <script>"}`)
		},
		"slow": func(w http.ResponseWriter, r *http.Request) {
			// Read the form so that the server notices when the client
			// hangs up and cancels r.Context().
			_ = r.ParseForm()
			arrived <- struct{}{}
			<-r.Context().Done()
		},
	}
	for name, h := range faults {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ErrorLog = quietLog
			testpki.Start(t, srv, &cert)
			req := Request{Method: "GET", URL: srv.URL + "/api", SecurityLevel: tlspolicy.TlsPinnedCertificate, PinnedCertificate: pin,
				Authorization: Authorization{Type: oauthRefreshToken, RefreshToken: secretRefresh, TokenURL: srv.URL + "/token",
					ClientID: "c", ClientSecret: secretClient}}
			c := mustNew(t, &req, Options{Now: testpki.Clock, SaveRefreshToken: noSave})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if name == "slow" {
				go func() {
					<-arrived
					cancel() // the device gives up while the endpoint stalls
				}()
			}
			_, err := c.Do(ctx)
			require.ErrorIs(t, err, ErrTokenEndpoint)
			require.NotErrorIs(t, err, ErrReauthorize)
			requireNoSecret(t, err.Error())
			require.NotContains(t, err.Error(), "<script>")
			switch name {
			case "slow":
				require.ErrorIs(t, err, context.Canceled)
			case "redirect to another host":
				require.ErrorIs(t, err, tlspolicy.ErrRedirectRefused)
			}
		})
	}
}

// TestTokenEndpointUnderThePin: the token endpoint is reached through the
// request's security level, never the default client: a token endpoint with
// another certificate fails the pin.
func TestTokenEndpointUnderThePin(t *testing.T) {
	s := newOAuthSetup(t)
	otherCert, _ := selfSigned(t)
	impostor := newAuthServer(t, s.ev, &otherCert, "rt-0")
	s.req.Authorization.TokenURL = impostor.URL + "/token"
	_, err := mustNew(t, &s.req, s.options()).Do(context.Background())
	require.ErrorIs(t, err, ErrTokenEndpoint)
	require.ErrorIs(t, err, tlspolicy.ErrPinMismatch)
	require.Zero(t, impostor.tokenCalls())
}

func TestPublicClientSendsIDInParams(t *testing.T) {
	s := newOAuthSetup(t)
	s.auth.secret = ""
	s.req.Authorization.ClientSecret = ""
	do(t, mustNew(t, &s.req, s.options()))
	require.Equal(t, 1, s.auth.tokenCalls())
}

func TestNewNeedsSaveCallback(t *testing.T) {
	r := validRefreshRequest()
	_, err := New(&r, Options{})
	require.Error(t, err)
	_, err = New(&r, Options{SaveRefreshToken: noSave, RefreshToken: "bad token"})
	require.Error(t, err)
}
