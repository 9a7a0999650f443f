package mqttauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/token"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// env is a provisioner and a guard sharing keys, revocations and a clock.
type env struct {
	clock       *clock
	revs        *token.MemoryRevocations
	tokens      *token.Issuer
	provisioner *mqttauth.Provisioner
	guard       *mqttauth.Guard
	apiToks     *token.Issuer // same keys, audience "api": API tokens
}

// deviceACL is the ACL most tests use.
var deviceACL = mqttauth.ACLConfig{
	Rules: []mqttauth.Rule{
		{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
		{Topic: "apps/{app}/devices/{device}/events/#", Access: mqttauth.Publish},
		{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe},
		{Topic: "apps/{app}/broadcast/#", Access: mqttauth.Subscribe},
		{Topic: "clients/{clientid}/#", Access: mqttauth.PublishSubscribe},
		{Topic: "apps/{app}/admin/#", Access: mqttauth.PublishSubscribe, Permission: "mqtt:admin"},
	},
	ClientIDs: []string{"{app}:{device}", "{key}"},
}

func newEnv(t testing.TB, p mqttauth.ACLConfig) *env {
	t.Helper()
	c := testclock.New(t0)
	keys := token.NewKeyring()
	revs := &token.MemoryRevocations{Now: c.Now}
	cfg := token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "mqtt", Prefix: "lt_", Revocations: revs, Now: c.Now}
	tokens := &token.Issuer{Config: cfg}
	api := cfg
	api.Audience, api.Revocations = "api", nil
	acl, err := mqttauth.Compile(p)
	require.NoError(t, err)
	return &env{
		clock:       c,
		revs:        revs,
		tokens:      tokens,
		provisioner: &mqttauth.Provisioner{Tokens: tokens},
		guard: &mqttauth.Guard{
			Tokens: &token.Verifier{Config: cfg},
			ACL:    acl,
		},
		apiToks: &token.Issuer{Config: api},
	}
}

func (e *env) issue(t testing.TB, r mqttauth.KeyRequest) *mqttauth.Credential {
	t.Helper()
	c, err := e.provisioner.Issue(context.Background(), r)
	require.NoError(t, err)
	return c
}

// connect authenticates a device credential with its bound client id.
func (e *env) connect(t testing.TB, c *mqttauth.Credential) *mqttauth.Principal {
	t.Helper()
	p, err := e.guard.Authenticate(context.Background(), c.App+":"+c.Device, c.Key, c.Secret)
	require.NoError(t, err)
	return p
}

// clock is the injected test clock.
type clock = testclock.Clock
