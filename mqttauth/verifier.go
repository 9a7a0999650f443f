package mqttauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchsec/latch/token"
)

// A Verifier checks MQTT credentials at CONNECT and hands back the
// [Principal] whose methods decide publishes and subscriptions. Tokens and
// ACL are required: a Verifier without Tokens refuses every CONNECT with a
// configuration error, one without an ACL allows no topic. A Verifier is
// safe for concurrent use.
type Verifier struct {
	// Tokens verifies the secrets: the same token.Config as the
	// [Issuer]'s token.Issuer, with the shared revocation list.
	Tokens *token.Verifier
	// ACL is the compiled policy (see [Compile]).
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
	rules    [][]string // the policy's rules expanded for this principal, split in levels
	pub, sub uint64     // which rules allow publishing, subscribing
}

// Authenticate checks a CONNECT: clientID, username (an application key) and
// password (its secret). It returns the principal, or an error under
// [ErrAuthentication] with the reason beside it, for the server's logs;
// tell the client only "bad user name or password". An error that is not
// ErrAuthentication (a misconfigured verifier, a revocation list that cannot
// answer: [token.ErrRevocationUnavailable]) means the server could not
// decide; refuse the connection too (CONNACK "server unavailable").
//
// The client id and user name are checked before anything else uses them;
// the secret must be a token for this verifier that carries [ConnectScope]
// and names username as its key; the client id must be one the policy binds
// to the credential. Errors never contain the secret.
func (v *Verifier) Authenticate(ctx context.Context, clientID, username, password string) (*Principal, error) {
	if v.Tokens == nil {
		return nil, errors.New("mqttauth: Verifier has no Tokens")
	}
	if !CheckIdentity(clientID) || !CheckKey(username) {
		return nil, ErrInvalidIdentity
	}
	c, err := v.Tokens.Verify(ctx, password)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return nil, fmt.Errorf("%w: %w", ErrAuthentication, err)
		}
		return nil, fmt.Errorf("mqttauth: %w", err)
	}
	key, device, ok := parseSubject(c.Subject)
	if !ok || key != username || !c.HasScope(ConnectScope) || len(c.Apps) != 1 {
		return nil, ErrKeyMismatch
	}
	p := &Principal{
		App: c.Apps[0], Key: key, Device: device, ClientID: clientID,
		Permissions: c.Scopes, SecretID: c.ID, Expires: c.Expires, claims: c,
	}
	if !v.ACL.clientIDAllowed(p, clientID) {
		return nil, ErrClientID
	}
	v.ACL.bind(p)
	return p, nil
}

// Recheck reports whether the principal's secret is still good: not revoked
// (by its ID, a parent's, or its key) and not expired beyond
// [token.Leeway]. Brokers call it for live sessions, on a schedule, to
// disconnect those whose credential has been revoked since CONNECT. Its
// errors are like Authenticate's.
func (v *Verifier) Recheck(ctx context.Context, p *Principal) error {
	if v.Tokens == nil || v.Tokens.Revocations == nil {
		return errors.New("mqttauth: Verifier has no Tokens or Revocations")
	}
	now := time.Now
	if v.Tokens.Now != nil {
		now = v.Tokens.Now
	}
	if !p.Expires.IsZero() && now().After(p.Expires.Add(token.Leeway)) {
		return fmt.Errorf("%w: %w", ErrAuthentication, token.ErrExpired)
	}
	revoked, err := v.Tokens.Revocations.Revoked(ctx, p.claims)
	if err != nil {
		return fmt.Errorf("mqttauth: %w", err)
	}
	if revoked {
		return fmt.Errorf("%w: %w", ErrAuthentication, token.ErrRevoked)
	}
	return nil
}

// HasPermission reports whether the principal's secret carries scope.
func (p *Principal) HasPermission(scope string) bool {
	return slices.Contains(p.Permissions, scope)
}

// CanPublish returns nil if the principal may publish to topic, and an
// error under [ErrDenied] otherwise: a topic name that is not valid MQTT
// ([ErrInvalidTopic]), one in $SYS ([ErrReservedTopic]), or one that no
// rule allows ([ErrNoRule]). Check a client's Will topic with it at CONNECT.
func (p *Principal) CanPublish(topic string) error {
	if !ValidTopic(topic) {
		return ErrInvalidTopic
	}
	if isSys(topic) {
		return ErrReservedTopic
	}
	if !p.covers(p.pub, topic) {
		return ErrNoRule
	}
	return nil
}

// CanSubscribe returns nil if the principal may subscribe to filter: when
// every topic the filter can match is a topic a rule allows it to receive.
// A shared subscription ("$share/group/filter", or "$queue/filter") is
// checked by its filter. Otherwise the error is under [ErrDenied]:
// [ErrInvalidTopic] or [ErrNoRule].
//
// A rule "a/+" allows the filters "a/+" and "a/b" but not "a/#" (which
// matches "a" and "a/b/c"); a rule "a/#" allows "a"; rules "+/x" and "#"
// allow nothing under "$SYS".
func (p *Principal) CanSubscribe(filter string) error {
	f, ok := stripShare(filter)
	if !ok || !validPlainFilter(f) {
		return ErrInvalidTopic
	}
	if !p.covers(p.sub, f) {
		return ErrNoRule
	}
	return nil
}

// CanReceive returns nil if a message published to topic may be delivered
// to the principal: a subscribe rule matches it. Brokers that check every
// delivery (mochi-mqtt does) call it; it is CanSubscribe for a topic name.
func (p *Principal) CanReceive(topic string) error {
	if !ValidTopic(topic) {
		return ErrInvalidTopic
	}
	if !p.covers(p.sub, topic) {
		return ErrNoRule
	}
	return nil
}

// Format prints the principal's identity, never its claims or rules.
func (p *Principal) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{App:%s Key:%s Device:%s ClientID:%s SecretID:%s}", p.App, p.Key, p.Device, p.ClientID, p.SecretID)
}
