package app_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/e2e"
)

// A cloud that swaps the integration's stored public key for its own (to
// read what is sealed from then on), or moves an envelope to another
// record, is caught by the app: it refuses to open anything.
func TestCompromisedCloud(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	dir := t.TempDir()
	p, err := platform.Start(ctx, platform.Config{StateDir: dir, MasterKey: platform.NewMasterKey(), Now: func() time.Time { return now }})
	require.NoError(t, err)
	defer p.Close()
	acme, _, err := p.RegisterIntegrator(ctx, "Acme", []string{api.ScopeRequestsWrite})
	require.NoError(t, err)

	phone := app.New(p.URL, p.Roots())
	key, err := phone.SignUp(ctx, "lee@example.com", "a long enough password")
	require.NoError(t, err)
	_, err = phone.SignIn(ctx, "lee@example.com", "a long enough password", func() string { return key.Code(now) })
	require.NoError(t, err)
	prov, err := phone.AddDevice(ctx, "door")
	require.NoError(t, err)
	in, err := phone.EnableIntegration(ctx, acme)
	require.NoError(t, err)

	// The compromised cloud, acting on its own database.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "platform.db")+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()

	// An envelope sealed for one record, moved to another.
	var pubText string
	require.NoError(t, db.QueryRow(`SELECT public_key FROM integrations WHERE id = ?`, in).Scan(&pubText))
	pub, err := sealedbox.ParsePublicKey(pubText)
	require.NoError(t, err)
	env, err := sealedbox.Seal(pub, []byte(`{"method":"GET"}`), api.RequestContext(in, "rq_a"))
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO requests (id, integration, envelope, created) VALUES ('rq_b', ?, ?, 0)`, in, env)
	require.NoError(t, err)
	_, err = phone.PushRules(ctx, in, prov.DeviceID)
	require.ErrorIs(t, err, sealedbox.ErrOpen)
	_, err = db.Exec(`DELETE FROM requests WHERE id = 'rq_b'`)
	require.NoError(t, err)

	// The public key swapped for the cloud's own.
	cloud, err := sealedbox.GenerateKey()
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE integrations SET public_key = ? WHERE id = ?`, cloud.PublicKey().String(), in)
	require.NoError(t, err)
	_, err = phone.PushRules(ctx, in, prov.DeviceID)
	require.ErrorIs(t, err, e2e.ErrKeyMismatch)
}

// The app reports the platform's refusals as *APIError with the status.
func TestAPIError(t *testing.T) {
	ctx := context.Background()
	p, err := platform.Start(ctx, platform.Config{StateDir: t.TempDir(), MasterKey: platform.NewMasterKey()})
	require.NoError(t, err)
	defer p.Close()
	phone := app.New(p.URL, p.Roots())
	_, err = phone.SignIn(ctx, "nobody@example.com", "whatever password", func() string { return "000000" })
	var ae *app.APIError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, http.StatusUnauthorized, ae.Status)
	require.Equal(t, "invalid_credentials", ae.Code)
	_, err = phone.EnableIntegration(ctx, "cl_x")
	require.ErrorContains(t, err, "onboard a device first")
}
