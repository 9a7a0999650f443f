package mqttauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/token"
)

// A Guard admits MQTT connections: it checks the credentials of a CONNECT
// and hands back the [Principal] whose methods decide publishes and
// subscriptions. Tokens and ACL are required: a Guard without Tokens
// refuses every CONNECT with an error under [ErrConfig], one without an
// ACL allows no topic. A Guard is safe for concurrent use.
type Guard struct {
	// Tokens verifies the secrets: the same token.Config as the
	// [Provisioner]'s token.Issuer, with the shared revocation list.
	Tokens *token.Verifier
	// ACL is the compiled ACL (see [Compile]).
	ACL *ACL
}

// A Principal is who a connection authenticated as, and what it may do.
// Its methods are safe for concurrent use and allocate nothing.
type Principal struct {
	App         string   // the application of the credential
	Key         string   // the application key: the user name
	Device      string   // the device of the credential, or ""
	ClientID    string   // the client id the connection uses
	Permissions []string // the scopes of the secret, ConnectScope included
	SecretID    string   // the secret's token ID
	Expires     time.Time

	claims   *token.Claims
	rules    [][]string // the ACL's rules expanded for this principal, split in levels
	pub, sub uint64     // which rules allow publishing, subscribing
}

// Authenticate checks a CONNECT: clientID, username (an application key) and
// password (its secret). It returns the principal, or an error under
// [ErrAuthentication] with the reason beside it, for the server's logs;
// tell the client only "bad user name or password". An error that is not
// ErrAuthentication (a misconfigured guard, [ErrConfig]; a revocation list
// that cannot answer, [ErrUnavailable] and
// [token.ErrRevocationUnavailable]) means the server could not decide;
// refuse the connection too (CONNACK "server unavailable").
//
// The client id and user name are checked before anything else uses them;
// the secret must be a token for Tokens that carries [ConnectScope] and
// names username as its key; the client id must be one the ACL binds to
// the credential. Errors never contain the secret.
func (g *Guard) Authenticate(ctx context.Context, clientID, username, password string) (*Principal, error) {
	if g.Tokens == nil {
		return nil, reason.Newf(ErrConfig, nil, "Guard has no Tokens")
	}
	if !ValidIdentity(clientID) || !ValidKey(username) {
		return nil, errInvalidIdentity
	}
	c, err := g.Tokens.Verify(ctx, password)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return nil, reason.Wrap(ErrAuthentication, nil, err)
		}
		return nil, reason.Wrap(ErrUnavailable, nil, err)
	}
	key, device, ok := parseSubject(c.Subject)
	if !ok || key != username || !c.HasScope(ConnectScope) || len(c.Apps) != 1 {
		return nil, errKeyMismatch
	}
	p := &Principal{
		App: c.Apps[0], Key: key, Device: device, ClientID: clientID,
		Permissions: c.Scopes, SecretID: c.ID, Expires: c.Expires, claims: c,
	}
	if !g.ACL.clientIDAllowed(p, clientID) {
		return nil, errClientID
	}
	g.ACL.bind(p)
	return p, nil
}

// Recheck reports whether the principal's secret is still good: not revoked
// (by its ID, a parent's, or its key) and not expired beyond
// [token.Leeway]. Brokers call it for live sessions, on a schedule, to
// disconnect those whose credential has been revoked since CONNECT. Its
// errors are like Authenticate's.
func (g *Guard) Recheck(ctx context.Context, p *Principal) error {
	if g.Tokens == nil || g.Tokens.Revocations == nil {
		return reason.Newf(ErrConfig, nil, "Guard has no Tokens or Revocations")
	}
	now := time.Now
	if g.Tokens.Now != nil {
		now = g.Tokens.Now
	}
	if !p.Expires.IsZero() && now().After(p.Expires.Add(token.Leeway)) {
		return reason.Wrap(ErrAuthentication, nil, token.ErrExpired)
	}
	revoked, err := g.Tokens.Revocations.Revoked(ctx, p.claims)
	if err != nil {
		return reason.Wrap(ErrUnavailable, nil, err)
	}
	if revoked {
		return reason.Wrap(ErrAuthentication, nil, token.ErrRevoked)
	}
	return nil
}

// HasPermission reports whether the principal's secret carries scope.
func (p *Principal) HasPermission(scope string) bool {
	return slices.Contains(p.Permissions, scope)
}

// CheckPublish returns nil if the principal may publish to topic, and an
// error under [ErrDenied] otherwise: a topic name that is not valid MQTT
// ([ErrInvalidTopic]), one in $SYS ([ErrReservedTopic]), or one that no
// rule allows ([ErrNoRule]). Check a client's Will topic with it at CONNECT.
func (p *Principal) CheckPublish(topic string) error {
	if !validTopic(topic) {
		return errInvalidTopic
	}
	if isSys(topic) {
		return errReservedTopic
	}
	if !p.covers(p.pub, topic) {
		return errNoRule
	}
	return nil
}

// CheckSubscribe returns nil if the principal may subscribe to filter: when
// every topic the filter can match is a topic a rule allows it to receive.
// A shared subscription ("$share/group/filter", or "$queue/filter") is
// checked by its filter. Otherwise the error is under [ErrDenied]:
// [ErrInvalidTopic] or [ErrNoRule].
//
// A topic name is a filter that matches itself: brokers that check every
// delivery of a message (mochi-mqtt does) check its topic with
// CheckSubscribe too.
//
// A rule "a/+" allows the filters "a/+" and "a/b" but not "a/#" (which
// matches "a" and "a/b/c"); a rule "a/#" allows "a"; rules "+/x" and "#"
// allow nothing under "$SYS".
func (p *Principal) CheckSubscribe(filter string) error {
	f, ok := stripShare(filter)
	if !ok || !validPlainFilter(f) {
		return errInvalidTopic
	}
	if !p.covers(p.sub, f) {
		return errNoRule
	}
	return nil
}

// Format prints the principal's identity, never its claims or rules.
func (p *Principal) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{App:%s Key:%s Device:%s ClientID:%s SecretID:%s}", p.App, p.Key, p.Device, p.ClientID, p.SecretID)
}
