package mochi_test

import (
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/mqttauth/mochi"
	"github.com/latchsec/latch/token"
)

// onlyACL provides OnACLCheck and nothing else; onlyAuth the same for
// OnConnectAuthenticate. Either alone would widen what Latch allows.
type onlyACL struct{ auth.AllowHook }

func (onlyACL) ID() string           { return "only-acl" }
func (onlyACL) Provides(b byte) bool { return b == mqtt.OnACLCheck }

type onlyAuth struct{ auth.AllowHook }

func (onlyAuth) ID() string           { return "only-auth" }
func (onlyAuth) Provides(b byte) bool { return b == mqtt.OnConnectAuthenticate }

// The hook refuses to be added to a server that already has a hook that
// authenticates or checks ACLs, whichever it is; hooks that do neither are
// welcome.
func TestRefusesServerWithAuthHook(t *testing.T) {
	g := &mqttauth.Guard{Tokens: &token.Verifier{}}
	ledger := &auth.Options{Ledger: &auth.Ledger{Auth: auth.AuthRules{{Username: "u", Password: "p", Allow: true}}}}
	for _, tt := range []struct {
		hook mqtt.Hook
		cfg  any
		id   string
	}{
		{new(auth.AllowHook), nil, "allow-all-auth"},
		{new(auth.Hook), ledger, "auth-ledger"},
		{new(onlyACL), nil, "only-acl"},
		{new(onlyAuth), nil, "only-auth"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			srv := mqtt.New(nil)
			require.NoError(t, srv.AddHook(tt.hook, tt.cfg))
			err := srv.AddHook(new(mochi.Hook), &mochi.Options{Guard: g, Server: srv})
			require.ErrorIs(t, err, mochi.ErrOtherAuthHook)
			require.ErrorContains(t, err, tt.id)
		})
	}
	t.Run("another Latch hook", func(t *testing.T) {
		srv := mqtt.New(nil)
		require.NoError(t, srv.AddHook(new(mochi.Hook), &mochi.Options{Guard: g, Server: srv}))
		require.ErrorIs(t, srv.AddHook(new(mochi.Hook), &mochi.Options{Guard: g, Server: srv}), mochi.ErrOtherAuthHook)
	})
	t.Run("hooks that neither authenticate nor check ACLs", func(t *testing.T) {
		srv := mqtt.New(nil)
		require.NoError(t, srv.AddHook(&observer{}, nil))
		h := new(mochi.Hook)
		require.NoError(t, srv.AddHook(h, &mochi.Options{Guard: g, Server: srv}))
		require.NoError(t, srv.AddHook(&observer{}, nil))
		require.NoError(t, h.Err())
	})
}

// An auth hook added after the Latch hook but before Serve: the broker
// serves nobody, and Err says why.
func TestAuthHookAddedBeforeServe(t *testing.T) {
	b := startBrokerWith(t, brokerOptions{after: []mqtt.Hook{new(auth.AllowHook)}, recheck: -1})
	require.ErrorIs(t, b.hook.Err(), mochi.ErrOtherAuthHook)
	_, err := b.connect(t, "app-1:dev-a", "", "", nil)
	require.ErrorIs(t, err, packets.ErrorRefusedServerUnavailable)
	cred := b.issue(t, "app-1", "dev-a")
	_, err = b.connect(t, "app-1:dev-a", cred.Key, cred.Secret, nil)
	require.ErrorIs(t, err, packets.ErrorRefusedServerUnavailable)
	require.Contains(t, b.log.String(), "another auth hook was added")
}

// An auth hook added while the broker serves: the next CONNECT notices it
// (the number of hooks changed), is refused, and every session ends.
func TestAuthHookAddedWhileServing(t *testing.T) {
	b := startBroker(t)
	a := b.mustConnect(t, b.issue(t, "app-1", "dev-a"))
	require.NoError(t, b.srv.AddHook(new(auth.AllowHook), nil))

	cred := b.issue(t, "app-1", "dev-b")
	_, err := b.connect(t, "app-1:dev-b", cred.Key, cred.Secret, nil)
	require.ErrorIs(t, err, packets.ErrorRefusedServerUnavailable)
	require.ErrorIs(t, b.hook.Err(), mochi.ErrOtherAuthHook)
	a.waitLost(t)
	_, err = b.connect(t, "app-1:dev-b", cred.Key, cred.Secret, nil)
	require.ErrorIs(t, err, packets.ErrorRefusedServerUnavailable)
}

// The recheck schedule notices an auth hook too, without waiting for a
// CONNECT.
func TestAuthHookNoticedByRecheck(t *testing.T) {
	b := startBroker(t)
	a := b.mustConnect(t, b.issue(t, "app-1", "dev-a"))
	require.NoError(t, b.srv.AddHook(new(auth.AllowHook), nil))
	require.Equal(t, 1, b.hook.Recheck(t.Context()))
	require.ErrorIs(t, b.hook.Err(), mochi.ErrOtherAuthHook)
	a.waitLost(t)
}
