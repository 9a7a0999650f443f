package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/device"
	"github.com/latchsec/latch/examples/internal/onboardtest"
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
	now := time.Now().Truncate(time.Second)
	p, err := platform.Start(ctx, platform.Config{StateDir: t.TempDir(), MasterKey: platform.NewMasterKey(), Now: func() time.Time { return now }})
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

// memLink is a device's link that hands it the given messages, then waits.
type memLink struct{ msgs []api.Message }

func (l *memLink) Receive(ctx context.Context, after int64) ([]api.Message, error) {
	var out []api.Message
	for _, m := range l.msgs {
		if m.Seq > after {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return out, nil
}

func (l *memLink) Report(context.Context, any) error { return nil }

// runDevice starts a device and returns it; the test stops it.
func runDevice(t *testing.T, cfg device.Config) *device.Device {
	t.Helper()
	d, err := device.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

// The app pairs every device it is given, each on an end-to-end channel of
// its own with the key that pairing derived: each device opens what the
// app sends it, through the platform's relay. Neither opens what the app
// sent the other: not when the relay moves the message to it, and not
// with its own key under the other's name.
func TestPairTwoDevices(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { return now }
	p, err := platform.Start(ctx, platform.Config{StateDir: t.TempDir(), MasterKey: platform.NewMasterKey(), Now: clock})
	require.NoError(t, err)
	defer p.Close()
	phone := app.New(p.URL, p.Roots())
	key, err := phone.SignUp(ctx, "lee@example.com", "a long enough password")
	require.NoError(t, err)
	_, err = phone.SignIn(ctx, "lee@example.com", "a long enough password", func() string { return key.Code(now) })
	require.NoError(t, err)

	pair := func(name string) api.Provisioning {
		d := onboardtest.Start(t, clock)
		id, err := phone.PairDevice(ctx, d.Conn, d.Code, name)
		prov, derr := d.Wait()
		require.NoError(t, err)
		require.NoError(t, derr)
		require.Equal(t, id, prov.DeviceID)
		return prov
	}
	door, lamp := pair("door"), pair("lamp")
	require.NotEqual(t, door.DeviceID, lamp.DeviceID)
	require.NotEqual(t, door.E2EKey, lamp.E2EKey)

	// Each device, on the platform's relay, opens the rule sent to it.
	send := func(prov api.Provisioning) []byte {
		rule, err := json.Marshal(api.Rule{Integration: "in_1", Request: "rq_" + prov.DeviceID, Definition: json.RawMessage(`{}`)})
		require.NoError(t, err)
		msg, err := phone.SendToDevice(ctx, prov.DeviceID, rule)
		require.NoError(t, err)
		return msg
	}
	toDoor, toLamp := send(door), send(lamp)
	devices := map[string]*device.Device{}
	for _, prov := range []api.Provisioning{door, lamp} {
		devices[prov.DeviceID] = runDevice(t, device.Config{Provisioning: prov, Now: clock,
			Link: device.NewHTTPSLink(p.URL, p.Roots(), prov.Key, prov.Secret)})
		o := <-devices[prov.DeviceID].Outcomes()
		require.Empty(t, o.Refused, "%s refused its own message", prov.DeviceID)
		require.Equal(t, uint64(1), o.MessageSeq)
		require.Equal(t, "rq_"+prov.DeviceID, o.Request) // opened: the rule's definition is not one to execute
	}

	// The relay moves each device's message to the other.
	for _, c := range []struct {
		to  api.Provisioning
		msg []byte
	}{{lamp, toDoor}, {door, toLamp}} {
		require.NoError(t, phone.Relay(ctx, c.to.DeviceID, c.msg))
		o := <-devices[c.to.DeviceID].Outcomes()
		require.Contains(t, o.Refused, "does not open", "%s opened the other device's message", c.to.DeviceID)
	}

	// A device that takes the other's name keeps its own key, which does
	// not open the other's messages.
	for _, c := range []struct {
		thief, victim api.Provisioning
		msg           []byte
	}{{lamp, door, toDoor}, {door, lamp, toLamp}} {
		posing := c.thief
		posing.DeviceID = c.victim.DeviceID
		d := runDevice(t, device.Config{Provisioning: posing, Now: clock, Link: &memLink{msgs: []api.Message{{Seq: 1, Body: c.msg}}}})
		o := <-d.Outcomes()
		require.Contains(t, o.Refused, "does not open", "%s opened %s's message", c.thief.DeviceID, c.victim.DeviceID)
	}
}
