package mqttauth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/token"
)

func TestIssueAndAuthenticate(t *testing.T) {
	e := newEnv(t, deviceACL)
	ctx := context.Background()
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1", Permissions: []string{"mqtt:admin"}, Expires: t0.Add(time.Hour)})
	require.True(t, mqttauth.ValidKey(c.Key))
	require.True(t, strings.HasPrefix(c.Secret, "lt_"))
	require.NotEmpty(t, c.SecretID)

	p, err := e.guard.Authenticate(ctx, "app-1:dev-1", c.Key, c.Secret)
	require.NoError(t, err)
	require.Equal(t, "app-1", p.App)
	require.Equal(t, c.Key, p.Key)
	require.Equal(t, "dev-1", p.Device)
	require.Equal(t, "app-1:dev-1", p.ClientID)
	require.Equal(t, c.SecretID, p.SecretID)
	require.Equal(t, t0.Add(time.Hour), p.Expires)
	require.True(t, p.HasPermission("mqtt:admin"))
	require.NoError(t, p.CheckPublish("apps/app-1/admin/x"))

	// The key itself is the other client id the ACL binds.
	_, err = e.guard.Authenticate(ctx, c.Key, c.Key, c.Secret)
	require.NoError(t, err)

	// A new secret for the same key (rotation) works too, and the first
	// one still does until it is revoked.
	c2 := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1", Key: c.Key})
	require.Equal(t, c.Key, c2.Key)
	require.NotEqual(t, c.Secret, c2.Secret)
	_, err = e.guard.Authenticate(ctx, "app-1:dev-1", c.Key, c2.Secret)
	require.NoError(t, err)

	// Without the permission, the admin rule does not apply.
	p2, err := e.guard.Authenticate(ctx, "app-1:dev-1", c.Key, c2.Secret)
	require.NoError(t, err)
	require.ErrorIs(t, p2.CheckPublish("apps/app-1/admin/x"), mqttauth.ErrNoRule)
}

func TestServiceKeyWithoutDevice(t *testing.T) {
	e := newEnv(t, deviceACL)
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1"})
	// "{app}:{device}" does not apply without a device: only the key.
	_, err := e.guard.Authenticate(context.Background(), "app-1:", c.Key, c.Secret)
	require.ErrorIs(t, err, mqttauth.ErrClientID)
	_, err = e.guard.Authenticate(context.Background(), "app-1:x", c.Key, c.Secret)
	require.ErrorIs(t, err, mqttauth.ErrClientID)
	p, err := e.guard.Authenticate(context.Background(), c.Key, c.Key, c.Secret)
	require.NoError(t, err)
	require.Empty(t, p.Device)
	// Rules using {device} do not apply: no "apps/app-1/devices//state".
	require.ErrorIs(t, p.CheckPublish("apps/app-1/devices//state"), mqttauth.ErrNoRule)
	require.NoError(t, p.CheckSubscribe("apps/app-1/broadcast/#"))
}

func TestAuthenticateRefusals(t *testing.T) {
	e := newEnv(t, deviceACL)
	ctx := context.Background()
	a := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-a", Expires: t0.Add(time.Hour)})
	b := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-b"})
	other := e.issue(t, mqttauth.KeyRequest{App: "app-2", Device: "dev-a"})
	api, _, err := e.apiToks.Issue(ctx, token.Claims{Subject: "mqtt:" + a.Key + ":dev-a", Scopes: []string{"mqtt:connect"}, Apps: []string{"app-1"}, NeverExpires: true})
	require.NoError(t, err)
	noScope, _, err := e.tokens.Issue(ctx, token.Claims{Subject: "mqtt:" + a.Key + ":dev-a", Scopes: []string{"data:read"}, Apps: []string{"app-1"}, NeverExpires: true})
	require.NoError(t, err)
	noApp, _, err := e.tokens.Issue(ctx, token.Claims{Subject: "mqtt:" + a.Key + ":dev-a", Scopes: []string{"mqtt:connect"}, NeverExpires: true})
	require.NoError(t, err)
	notMQTT, _, err := e.tokens.Issue(ctx, token.Claims{Subject: "user-42", Scopes: []string{"mqtt:connect"}, Apps: []string{"app-1"}, NeverExpires: true})
	require.NoError(t, err)

	tests := []struct {
		name                       string
		clientID, username, secret string
		reason                     error
	}{
		{"secret of key A with user name of key B", "app-1:dev-b", b.Key, a.Secret, mqttauth.ErrKeyMismatch},
		{"client id of another device", "app-1:dev-b", a.Key, a.Secret, mqttauth.ErrClientID},
		{"same device id in another app", "app-1:dev-a", other.Key, other.Secret, mqttauth.ErrClientID},
		{"another key as client id", b.Key, a.Key, a.Secret, mqttauth.ErrClientID},
		{"API token of another audience", "app-1:dev-a", a.Key, api, token.ErrWrongAudience},
		{"token without mqtt:connect", "app-1:dev-a", a.Key, noScope, mqttauth.ErrKeyMismatch},
		{"token for no application", "app-1:dev-a", a.Key, noApp, mqttauth.ErrKeyMismatch},
		{"token whose subject is not a key", "app-1:dev-a", a.Key, notMQTT, mqttauth.ErrKeyMismatch},
		{"empty secret", "app-1:dev-a", a.Key, "", token.ErrMalformed},
		{"changed secret", "app-1:dev-a", a.Key, flipCiphertext(a.Secret), token.ErrDecrypt},
		{"user name not a key", "app-1:dev-a", "dev-a", a.Secret, mqttauth.ErrInvalidIdentity},
		{"key in upper case", "app-1:dev-a", strings.ToUpper(a.Key), a.Secret, mqttauth.ErrInvalidIdentity},
		{"empty user name", "app-1:dev-a", "", a.Secret, mqttauth.ErrInvalidIdentity},
		{"empty client id", "", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id #", "#", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id +", "+", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id with /", "app-1:dev-a/x", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id with NUL", "app-1:dev-a\x00", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id with control character", "app-1:dev\n-a", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id with C1 control", "app-1:dev\u0085a", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id invalid UTF-8", "app-1:dev-\xff", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id starting with $", "$SYS", a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"client id too long", strings.Repeat("a", mqttauth.MaxIdentityLength+1), a.Key, a.Secret, mqttauth.ErrInvalidIdentity},
		{"oversized secret", "app-1:dev-a", a.Key, strings.Repeat("A", 8192+1), token.ErrMalformed}, // token refuses more than 8 KiB
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.guard.Authenticate(ctx, tt.clientID, tt.username, tt.secret)
			require.Nil(t, p)
			require.ErrorIs(t, err, mqttauth.ErrAuthentication)
			require.ErrorIs(t, err, tt.reason)
			requireNoSecret(t, err, a.Secret, b.Secret, other.Secret, api, noScope)
		})
	}
}

// flipCiphertext changes one character in the middle of a token's
// ciphertext part (a full six bits, so the base64url stays canonical).
func flipCiphertext(tok string) string {
	parts := strings.Split(tok, ".")
	ct := []byte(parts[3])
	i := len(ct) / 2
	if ct[i] == 'A' {
		ct[i] = 'B'
	} else {
		ct[i] = 'A'
	}
	parts[3] = string(ct)
	return strings.Join(parts, ".")
}

// requireNoSecret checks that no secret, nor a part of one, is in err.
func requireNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	msg := err.Error()
	for _, s := range secrets {
		for _, part := range strings.Split(strings.TrimPrefix(s, "lt_"), ".") {
			if len(part) >= 8 {
				require.NotContains(t, msg, part)
			}
		}
	}
}

func TestRevocationAndExpiry(t *testing.T) {
	e := newEnv(t, deviceACL)
	ctx := context.Background()
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1", Expires: t0.Add(time.Hour)})
	p := e.connect(t, c)
	require.NoError(t, e.guard.Recheck(ctx, p))

	t.Run("expired", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Hour + token.Leeway + time.Second))
		defer func() { e.clock.Set(t0) }()
		_, err := e.guard.Authenticate(ctx, "app-1:dev-1", c.Key, c.Secret)
		require.ErrorIs(t, err, mqttauth.ErrAuthentication)
		require.ErrorIs(t, err, token.ErrExpired)
		err = e.guard.Recheck(ctx, p)
		require.ErrorIs(t, err, mqttauth.ErrAuthentication)
		require.ErrorIs(t, err, token.ErrExpired)
	})

	t.Run("secret revoked by id", func(t *testing.T) {
		c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-2"})
		p, err := e.guard.Authenticate(ctx, "app-1:dev-2", c.Key, c.Secret)
		require.NoError(t, err)
		require.NoError(t, e.revs.RevokeID(ctx, c.SecretID, c.Expires))
		_, err = e.guard.Authenticate(ctx, "app-1:dev-2", c.Key, c.Secret)
		require.ErrorIs(t, err, token.ErrRevoked)
		require.ErrorIs(t, e.guard.Recheck(ctx, p), token.ErrRevoked)
	})

	t.Run("key revoked", func(t *testing.T) {
		c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-3"})
		other := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-4"})
		p, err := e.guard.Authenticate(ctx, "app-1:dev-3", c.Key, c.Secret)
		require.NoError(t, err)
		require.NoError(t, e.provisioner.RevokeKey(ctx, c.Key, c.Device))
		_, err = e.guard.Authenticate(ctx, "app-1:dev-3", c.Key, c.Secret)
		require.ErrorIs(t, err, token.ErrRevoked)
		require.ErrorIs(t, e.guard.Recheck(ctx, p), token.ErrRevoked)
		_, err = e.guard.Authenticate(ctx, "app-1:dev-4", other.Key, other.Secret)
		require.NoError(t, err)
		// A new secret for the key, issued after the revocation, works.
		e.clock.Set(t0.Add(time.Second))
		defer func() { e.clock.Set(t0) }()
		c2 := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-3", Key: c.Key})
		_, err = e.guard.Authenticate(ctx, "app-1:dev-3", c.Key, c2.Secret)
		require.NoError(t, err)
	})
}

func TestIssueRefusals(t *testing.T) {
	e := newEnv(t, deviceACL)
	for _, r := range []mqttauth.KeyRequest{
		{App: ""},
		{App: "app/1"},
		{App: "app-1", Device: "dev/1"},
		{App: "app-1", Device: "#"},
		{App: "app-1", Device: "$dev"},
		{App: "app-1", Key: "mk_nope"},
		{App: "app-1", Key: "dev-1"},
	} {
		_, err := e.provisioner.Issue(context.Background(), r)
		require.ErrorIs(t, err, mqttauth.ErrIssue, "%+v", r)
	}
	_, err := e.provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Permissions: []string{"Bad Scope"}})
	require.ErrorIs(t, err, token.ErrClaims)
	_, err = e.provisioner.Issue(context.Background(), mqttauth.KeyRequest{App: "app-1", Expires: t0.Add(-time.Hour)})
	require.ErrorIs(t, err, token.ErrClaims)
}

func TestCredentialPrintsNoSecret(t *testing.T) {
	e := newEnv(t, deviceACL)
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		s := fmt.Sprintf(verb, c)
		require.NotContains(t, s, c.Secret[3:20], verb)
		require.Contains(t, s, c.Key, verb)
		s = fmt.Sprintf(verb, *c)
		require.NotContains(t, s, c.Secret[3:20], verb)
	}
	p := e.connect(t, c)
	require.NotContains(t, fmt.Sprintf("%+v", p), c.Secret[3:20])
}

func TestValidKey(t *testing.T) {
	e := newEnv(t, deviceACL)
	k := e.issue(t, mqttauth.KeyRequest{App: "a"}).Key
	require.True(t, mqttauth.ValidKey(k))
	for _, bad := range []string{"", "mk_", k[:len(k)-1], k + "a", "MK_" + k[3:], strings.ToUpper(k),
		k[:len(k)-1] + "1", // not base32
		k[:len(k)-1] + "b", // 128 bits leave the last character's low bits zero: non-canonical
	} {
		if bad == k {
			continue
		}
		require.False(t, mqttauth.ValidKey(bad), bad)
	}
}

// A Guard or Provisioner without its token settings is a configuration
// error, never a refusal of the client (which a broker would tell it as
// "bad user name or password").
func TestWithoutTokens(t *testing.T) {
	ctx := context.Background()
	g := &mqttauth.Guard{}
	_, err := g.Authenticate(ctx, "c", "u", "p")
	require.ErrorIs(t, err, mqttauth.ErrConfig)
	require.False(t, errors.Is(err, mqttauth.ErrAuthentication))
	require.ErrorIs(t, g.Recheck(ctx, &mqttauth.Principal{}), mqttauth.ErrConfig)

	e := newEnv(t, deviceACL)
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	p := &mqttauth.Provisioner{}
	_, err = p.Issue(ctx, mqttauth.KeyRequest{App: "app-1"})
	require.ErrorIs(t, err, mqttauth.ErrConfig)
	require.ErrorIs(t, p.RevokeKey(ctx, c.Key, c.Device), mqttauth.ErrConfig)
	p.Tokens = &token.Issuer{}
	require.ErrorIs(t, p.RevokeKey(ctx, c.Key, c.Device), mqttauth.ErrConfig)
	_, err = p.Issue(ctx, mqttauth.KeyRequest{App: "app-1"})
	require.ErrorIs(t, err, mqttauth.ErrConfig)
	require.False(t, errors.Is(err, mqttauth.ErrIssue))
}

// A revocation list that cannot answer is ErrUnavailable: not a refusal
// (a live session is kept, a CONNECT is told "server unavailable"), and
// not a key revoked.
func TestRevocationsUnavailable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceACL)
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	p := e.connect(t, c)
	e.guard.Tokens.Revocations = failingRevocations{}
	e.tokens.Revocations = failingRevocations{}

	_, err := e.guard.Authenticate(ctx, "app-1:dev-1", c.Key, c.Secret)
	for _, err := range []error{err, e.guard.Recheck(ctx, p), e.provisioner.RevokeKey(ctx, c.Key, c.Device)} {
		require.ErrorIs(t, err, mqttauth.ErrUnavailable)
		require.ErrorIs(t, err, token.ErrRevocationUnavailable)
		require.False(t, errors.Is(err, mqttauth.ErrAuthentication), "%v", err)
		require.False(t, errors.Is(err, mqttauth.ErrIssue), "%v", err)
		requireNoSecret(t, err, c.Secret)
	}
}

// Each refusal is its category and its reason, with errors.Is, and says
// both in its message.
func TestErrorShapes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceACL)
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	p := e.connect(t, c)
	_, idErr := e.guard.Authenticate(ctx, "app-1:dev-2", c.Key, c.Secret)
	_, issueErr := e.provisioner.Issue(ctx, mqttauth.KeyRequest{App: "app/1"})
	_, cfgErr := mqttauth.Compile(mqttauth.ACLConfig{Rules: []mqttauth.Rule{{Topic: "a/#/b", Access: mqttauth.Publish}}})
	for _, tt := range []struct {
		err              error
		category, reason error
		msg              string
	}{
		{idErr, mqttauth.ErrAuthentication, mqttauth.ErrClientID, "mqttauth: bad user name or password: client id not allowed for this key"},
		{p.CheckPublish("$SYS/x"), mqttauth.ErrDenied, mqttauth.ErrReservedTopic, "mqttauth: not authorized: reserved topic"},
		{p.CheckSubscribe("a/#/b"), mqttauth.ErrDenied, mqttauth.ErrInvalidTopic, "mqttauth: not authorized: invalid topic"},
		{p.CheckSubscribe("#"), mqttauth.ErrDenied, mqttauth.ErrNoRule, "mqttauth: not authorized: no rule allows it"},
		{issueErr, mqttauth.ErrIssue, nil, "mqttauth: invalid key request: malformed application id"},
		{cfgErr, mqttauth.ErrConfig, nil, `mqttauth: invalid configuration: ACLConfig.Rules[0]: "a/#/b" is not a valid topic filter`},
	} {
		require.ErrorIs(t, tt.err, tt.category)
		if tt.reason != nil {
			require.ErrorIs(t, tt.err, tt.reason)
		}
		require.EqualError(t, tt.err, tt.msg)
		var f *reason.Fault
		require.ErrorAs(t, tt.err, &f)
	}
	// A reason is not its category: a caller tests the error it got.
	require.False(t, errors.Is(mqttauth.ErrNoRule, mqttauth.ErrDenied))
}

// TestClientIDTemplateTooLongToMatch: a client id template whose expansion
// outgrows MaxIdentityLength matches no client id, so it refuses; it never
// matches a client id cut to the cap.
func TestClientIDTemplateTooLongToMatch(t *testing.T) {
	lit := strings.Repeat("0", mqttauth.MaxIdentityLength-2)
	e := newEnv(t, mqttauth.ACLConfig{ClientIDs: []string{"{app}" + lit}})
	c := e.issue(t, mqttauth.KeyRequest{App: "app-1"})
	full := "app-1" + lit // 131 bytes: over the cap
	for _, id := range []string{full, full[:mqttauth.MaxIdentityLength], c.Key} {
		_, err := e.guard.Authenticate(context.Background(), id, c.Key, c.Secret)
		require.ErrorIs(t, err, mqttauth.ErrAuthentication, "%q", id)
	}
}
