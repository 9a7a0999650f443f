package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/sealedbox"
)

// post sends body as JSON to path (with bearer, if not empty) and returns
// the status and the headers of the answer.
func (e *env) post(path, bearer string, body any) (int, http.Header) {
	b, err := json.Marshal(body)
	require.NoError(e.t, err)
	req, err := http.NewRequest(http.MethodPost, e.p.URL+path, bytes.NewReader(b))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.client().Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// heldHashes holds every password evaluation of a platform in flight until
// released, and counts them.
type heldHashes struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	n       atomic.Int32
}

// holdHashes holds the platform's evaluations from now on, until free.
func (e *env) holdHashes() *heldHashes {
	h := &heldHashes{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	platform.SetHashHook(e.p, func() {
		h.n.Add(1)
		h.entered <- struct{}{}
		<-h.release
	})
	e.t.Cleanup(h.free)
	return h
}

func (h *heldHashes) free() { h.once.Do(func() { close(h.release) }) }

// attack runs f n times at once while h holds every evaluation: once each
// attempt is either held in an evaluation or answered, the evaluations are
// let go. It returns the count of each status.
func attack(h *heldHashes, n int, f func() int) map[int]int {
	answers := make(chan int, n)
	for range n {
		go func() { answers <- f() }()
	}
	counts := map[int]int{}
	entered, answered := 0, 0
	for entered+answered < n {
		select {
		case <-h.entered:
			entered++
		case s := <-answers:
			counts[s]++
			answered++
		}
	}
	h.free()
	for answered < n {
		counts[<-answers]++
		answered++
	}
	return counts
}

// Wrong passwords sent at once for one address, known or not: exactly the
// allowed number (5) are evaluated; the rest are refused before the hash
// with 429. The hashing budget is large here, so none waits for it.
func TestPasswordThrottlingConcurrent(t *testing.T) {
	e := newEnvWith(t, platform.Config{PasswordHashingMemory: 1 << 40})
	e.person("gus@example.com")
	for _, email := range []string{"gus@example.com", "nobody@example.com"} {
		h := e.holdHashes()
		counts := attack(h, 60, func() int {
			s, _ := e.post("/v1/signin", "", map[string]string{"email": email, "password": "wrong password!!"})
			return s
		})
		require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 55}, counts, email)
		require.Equal(t, int32(5), h.n.Load(), email)
	}
}

// The password asked again before a second-factor change shares the
// count, and is throttled the same way under concurrency.
func TestPasswordAgainThrottlingConcurrent(t *testing.T) {
	e := newEnvWith(t, platform.Config{PasswordHashingMemory: 1 << 40})
	phone, _ := e.person("gwen@example.com")
	h := e.holdHashes()
	counts := attack(h, 60, func() int {
		s, _ := e.post("/v1/recovery-codes", phone.Session(), map[string]string{"password": "wrong password!!"})
		return s
	})
	require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 55}, counts)
	require.Equal(t, int32(5), h.n.Load())
	h = e.holdHashes()
	counts = attack(h, 20, func() int {
		s, _ := e.post("/v1/totp/reenroll", phone.Session(), map[string]string{"password": "a long enough password"})
		return s
	})
	require.Equal(t, map[int]int{http.StatusTooManyRequests: 20}, counts, "locked, even for the right password")
	require.Zero(t, h.n.Load())
}

// Password hashing has a memory budget: with room for two evaluations and
// two held in flight, a third sign-in (or sign-up) is answered 503 with
// Retry-After at once, without being counted against its address; once
// the two end, it goes through.
func TestPasswordHashingBudget(t *testing.T) {
	e := newEnvWith(t, platform.Config{PasswordHashingMemory: 2 * int64(platform.PasswordParams.Memory) << 10})
	h := e.holdHashes()
	answers := make(chan int, 2)
	for _, email := range []string{"a@example.com", "b@example.com"} {
		go func() {
			s, _ := e.post("/v1/signin", "", map[string]string{"email": email, "password": "wrong password!!"})
			answers <- s
		}()
	}
	<-h.entered
	<-h.entered
	for range 6 {
		s, hdr := e.post("/v1/signin", "", map[string]string{"email": "c@example.com", "password": "wrong password!!"})
		require.Equal(t, http.StatusServiceUnavailable, s)
		require.Equal(t, "1", hdr.Get("Retry-After"))
	}
	s, hdr := e.post("/v1/signup", "", map[string]string{"email": "d@example.com", "password": "a long enough password"})
	require.Equal(t, http.StatusServiceUnavailable, s)
	require.Equal(t, "1", hdr.Get("Retry-After"))
	require.Contains(t, e.audit.String(), `"reason":"hashing busy"`)
	h.free()
	require.Equal(t, http.StatusUnauthorized, <-answers)
	require.Equal(t, http.StatusUnauthorized, <-answers)
	// The refusals did not count: c's address is not locked.
	s, _ = e.post("/v1/signin", "", map[string]string{"email": "c@example.com", "password": "wrong password!!"})
	require.Equal(t, http.StatusUnauthorized, s)
	require.Equal(t, int32(3), h.n.Load())
}

// A token limited to other applications (apps) is refused on every route
// that acts on the person's application (devices, integrations), and one
// limited to the person's own works there.
func TestTokenAppLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	clientID, _, err := e.p.RegisterIntegrator(ctx, "Acme", []string{platform.ScopeRequestsWrite})
	require.NoError(t, err)
	phone, _ := e.person("ivy@example.com")
	dev, err := phone.AddDevice(ctx, "lamp")
	require.NoError(t, err)
	in, err := phone.EnableIntegration(ctx, clientID)
	require.NoError(t, err)
	limited := func(apps ...string) string {
		var s platform.SessionResponse
		require.NoError(t, phone.Do(ctx, http.MethodPost, "/v1/tokens", phone.Session(), map[string]any{"name": "limited",
			"scopes":    []string{platform.ScopeDevicesManage, platform.ScopeDevicesRead, platform.ScopeIntegrationsManage},
			"apps":      apps,
			"expiresIn": 3600}, &s))
		return s.Token
	}
	other, own := limited("other-app"), limited(dev.App)
	pub, err := sealedbox.GenerateKey()
	require.NoError(t, err)
	routes := []struct {
		method, path string
		body         any
		ok           int // the status with a token of the right application
	}{
		{http.MethodGet, "/v1/devices", nil, http.StatusOK},
		{http.MethodPost, "/v1/devices", map[string]string{"name": "x"}, http.StatusCreated},
		{http.MethodGet, "/v1/devices/" + dev.DeviceID, nil, http.StatusOK},
		{http.MethodPost, "/v1/devices/" + dev.DeviceID + "/messages", map[string][]byte{"message": []byte("m")}, http.StatusAccepted},
		{http.MethodGet, "/v1/integrations", nil, http.StatusOK},
		{http.MethodPost, "/v1/integrations", map[string]any{"integrator": clientID, "publicKey": pub.PublicKey().String(), "wrappedKey": []byte("w")}, http.StatusCreated},
		{http.MethodGet, "/v1/integrations/" + in, nil, http.StatusOK},
		{http.MethodGet, "/v1/integrations/" + in + "/requests", nil, http.StatusOK},
		{http.MethodGet, "/v1/integrations/" + in + "/requests/rq_none", nil, http.StatusNotFound},
		{http.MethodDelete, "/v1/devices/" + dev.DeviceID, nil, http.StatusNoContent},
	}
	for _, r := range routes {
		err := phone.Do(ctx, r.method, r.path, other, r.body, nil)
		require.Equal(t, http.StatusForbidden, status(err), "%s %s", r.method, r.path)
		err = phone.Do(ctx, r.method, r.path, own, r.body, nil)
		if r.ok < 300 {
			require.NoError(t, err, "%s %s", r.method, r.path)
		} else {
			require.Equal(t, r.ok, status(err), "%s %s", r.method, r.path)
		}
	}
	require.Equal(t, len(routes), strings.Count(e.audit.String(), `"msg":"api token refused"`))
}
