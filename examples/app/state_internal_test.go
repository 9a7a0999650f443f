package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
)

// keySetHost serves an integrator's key set, for one signing key, at
// integrator.KeySetPath over TLS, and returns its host and roots.
func keySetHost(t *testing.T, signer *sealedbox.SigningKey) (*httptest.Server, string) {
	t.Helper()
	// Wide validity: the app judges key validity by its own clock.
	doc, err := integrator.MarshalKeySet([]integrator.PublishedKey{{Key: signer.VerifyingKey(),
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != integrator.KeySetPath {
			http.NotFound(w, r)
			return
		}
		w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "https://")
}

func sealedStatement(t *testing.T, appKey *sealedbox.PrivateKey, signer *sealedbox.SigningKey, in, rq string, version uint64, path string) api.SealedRequest {
	t.Helper()
	def := &integrator.Request{Method: "GET", URL: "https://api.example.test" + path}
	env, err := (&integrator.Statement{IntegrationID: in, RequestID: rq, Version: version, Definition: def}).Seal(appKey.PublicKey(), signer)
	require.NoError(t, err)
	return api.SealedRequest{ID: rq, Envelope: env, Signed: true}
}

// TestStateFileSurvivesRestart: an app restarted on its state file still
// refuses an older version of a signed request (rollback), and still
// requires the pinned integration's requests to be signed (a cloud-sealed
// request in place of a signed one), even though the integrator's host is
// gone and the key set cannot be fetched again. Without the state file the
// restarted app forgets both, which is the gap the file closes.
func TestStateFileSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	signer, err := sealedbox.Ed25519().GenerateSigningKey()
	require.NoError(t, err)
	appKey, err := sealedbox.X25519().GenerateKey()
	require.NoError(t, err)
	srv, host := keySetHost(t, signer)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	path := filepath.Join(t.TempDir(), "app-state.json")
	const in, rq = "in_1", "rq_1"
	v1 := sealedStatement(t, appKey, signer, in, rq, 1, "/v1")
	v2 := sealedStatement(t, appKey, signer, in, rq, 2, "/v2")
	forgedEnv, err := sealedbox.Seal(appKey.PublicKey(), []byte(`{"method":"GET","url":"http://evil.example/"}`), api.RequestContext(in, rq))
	require.NoError(t, err)
	forged := api.SealedRequest{ID: rq, Envelope: forgedEnv}

	first := New("https://platform.invalid", nil)
	require.NoError(t, first.UseStateFile(path))
	_, err = first.PinIntegratorKeys(ctx, in, host, roots)
	require.NoError(t, err)
	def, err := first.openRequest(appKey, in, v2)
	require.NoError(t, err)
	require.Contains(t, string(def), "/v2")
	srv.Close() // the integrator's host is gone: nothing can be fetched again

	restarted := New("https://platform.invalid", nil)
	require.NoError(t, restarted.UseStateFile(path))
	_, err = restarted.openRequest(appKey, in, v1)
	require.ErrorIs(t, err, integrator.ErrRollback)
	_, err = restarted.openRequest(appKey, in, forged)
	require.ErrorIs(t, err, sealedbox.ErrUnsigned)
	_, err = restarted.openRequest(appKey, in, v2)
	require.NoError(t, err, "the accepted version itself still opens")
	_, err = restarted.openRequest(appKey, in, sealedStatement(t, appKey, signer, in, rq, 3, "/v3"))
	require.NoError(t, err)

	again := New("https://platform.invalid", nil)
	require.NoError(t, again.UseStateFile(path))
	_, err = again.openRequest(appKey, in, v2)
	require.ErrorIs(t, err, integrator.ErrRollback, "version 3, accepted after the first restart, was saved too")

	// The gap without a state file: a restarted app knows no pin and no
	// version, and opens the cloud's own request.
	forgetful := New("https://platform.invalid", nil)
	_, err = forgetful.openRequest(appKey, in, forged)
	require.NoError(t, err)
}

// TestStateFileRefusesBadState: a state file the app cannot read whole is
// an error, and the app keeps nothing of it.
func TestStateFileRefusesBadState(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":         `{`,
		"other format":     `{"format":"other"}`,
		"unknown field":    `{"format":"latch-example-app-state/v1","extra":1}`,
		"bad key set":      `{"format":"latch-example-app-state/v1","keySets":{"in_1":{"host":"h.example","document":"e30="}}}`,
		"bad digest":       `{"format":"latch-example-app-state/v1","versions":[{"integrationId":"in_1","requestId":"rq","version":2,"digest":"00"}]}`,
		"version zero":     `{"format":"latch-example-app-state/v1","versions":[{"integrationId":"in_1","requestId":"rq","version":0,"digest":"` + strings.Repeat("00", 32) + `"}]}`,
		"trailing array":   `[]`,
		"repeated request": `{"format":"latch-example-app-state/v1","versions":[{"integrationId":"in_1","requestId":"rq","version":2,"digest":"` + strings.Repeat("00", 32) + `"},{"integrationId":"in_1","requestId":"rq","version":1,"digest":"` + strings.Repeat("00", 32) + `"}]}`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		p := New("https://platform.invalid", nil)
		require.Error(t, p.UseStateFile(path), name)
		require.Empty(t, p.signed.path, name)
		require.Empty(t, p.signed.verifiers, name)
	}
}

// TestSaveVersionNeverLowers: the app's version store keeps the highest
// version whichever verifier saves, and a failed write leaves the state
// as it was.
func TestSaveVersionNeverLowers(t *testing.T) {
	p := New("https://platform.invalid", nil)
	require.NoError(t, p.UseStateFile(filepath.Join(t.TempDir(), "state.json")))
	require.NoError(t, p.signed.SaveVersion("in", "rq", 5, [32]byte{}))
	require.Error(t, p.signed.SaveVersion("in", "rq", 4, [32]byte{}))
	got, _, err := p.signed.LoadVersion("in", "rq")
	require.NoError(t, err)
	require.EqualValues(t, 5, got)

	p.signed.path = filepath.Join(t.TempDir(), "missing-dir", "state.json")
	require.Error(t, p.signed.SaveVersion("in", "rq", 6, [32]byte{}))
	got, _, _ = p.signed.LoadVersion("in", "rq")
	require.EqualValues(t, 5, got)
}

// FuzzStateFile: no state file content panics the app, and one it refuses
// leaves it with no state; one it takes is written back unchanged in
// meaning (read again, it gives the same pins and versions).
func FuzzStateFile(f *testing.F) {
	f.Add([]byte(`{"format":"latch-example-app-state/v1","keySets":{},"versions":[{"integrationId":"in_1","requestId":"rq","version":2,"digest":"` + strings.Repeat("ab", 32) + `"}]}`))
	f.Add([]byte(`{"format":"latch-example-app-state/v1","keySets":{"in_1":{"host":"h.example","document":"e30="}}}`))
	f.Add([]byte(`{`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "state.json")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		p := New("https://platform.invalid", nil)
		if err := p.UseStateFile(path); err != nil {
			require.Empty(t, p.signed.path)
			require.Empty(t, p.signed.accepted)
			return
		}
		p.signed.mu.Lock()
		require.NoError(t, p.signed.save())
		accepted := p.signed.accepted
		p.signed.mu.Unlock()
		again := New("https://platform.invalid", nil)
		require.NoError(t, again.UseStateFile(path))
		require.Equal(t, len(accepted), len(again.signed.accepted))
		for k, v := range accepted {
			require.Equal(t, v, again.signed.accepted[k])
		}
	})
}
