package mqttauth

import (
	"errors"

	"github.com/latchsec/latch/internal/reason"
)

// Every error of the package is a category below and, where the package
// says why, a reason under it: errors.Is matches both (see internal/reason).

// ErrAuthentication is under every refusal of a CONNECT by
// [Guard.Authenticate] and [Guard.Recheck]: test for it with errors.Is.
// Tell the client no more than "bad user name or password" (CONNACK 0x86,
// or 0x04 in MQTT 3.1.1); the reason is a second error under the same one,
// for the server's logs: one of the sentinels below, or a token reason such
// as [token.ErrExpired] or [token.ErrRevoked].
var ErrAuthentication = errors.New("mqttauth: bad user name or password")

// Reasons a CONNECT is refused, each one under [ErrAuthentication].
var (
	// ErrInvalidIdentity: the client id or the user name is empty, too
	// long, not valid UTF-8, or contains "+", "#", "/", NUL or another
	// control character, or starts with "$" (see [ValidIdentity]); or the
	// user name is not an application key (see [ValidKey]).
	ErrInvalidIdentity = errors.New("mqttauth: invalid client id or user name")
	// ErrKeyMismatch: the secret is a valid token but not a secret of the
	// application key given as the user name (the secret of another key,
	// or a token that is not an MQTT secret at all).
	ErrKeyMismatch = errors.New("mqttauth: secret does not belong to this key")
	// ErrClientID: the client id is not one that the credential may use
	// (see [ACLConfig.ClientIDs]); it may be another device's.
	ErrClientID = errors.New("mqttauth: client id not allowed for this key")
)

// ErrUnavailable is under every error of [Guard.Authenticate] and
// [Guard.Recheck] that is not a decision: the token verifier failed in a
// way that says nothing about the secret (a revocation list that cannot
// answer, [token.ErrRevocationUnavailable], is under it too). Refuse the
// connection with "server unavailable" (CONNACK 0x88, or 0x03 in MQTT
// 3.1.1), and keep a live session. [Provisioner.RevokeKey] returns it when
// the revocation list cannot be written: the key is not revoked.
var ErrUnavailable = errors.New("mqttauth: unavailable")

// ErrDenied is under every refusal of a publish or a subscription by
// [Principal.CheckPublish] and [Principal.CheckSubscribe].
var ErrDenied = errors.New("mqttauth: not authorized")

// Reasons a topic or filter is refused, each one under [ErrDenied].
var (
	// ErrInvalidTopic: the topic name or filter is not valid MQTT: empty,
	// longer than 65,535 bytes or 64 levels, not valid UTF-8, containing
	// NUL or another control character, a wildcard in a topic name, a "+"
	// or "#" that is not a whole level, a "#" that is not last, a
	// malformed "$share/" or "$queue/" subscription, a topic name under
	// "$share" or "$queue".
	ErrInvalidTopic = errors.New("mqttauth: invalid topic")
	// ErrReservedTopic: a publish to $SYS, which no client may do.
	ErrReservedTopic = errors.New("mqttauth: reserved topic")
	// ErrNoRule: no rule of the ACL allows it (deny by default); for a
	// filter: the rules do not allow every topic it can match.
	ErrNoRule = errors.New("mqttauth: no rule allows it")
)

// ErrConfig is under every error of a configuration the package refuses:
// an [ACLConfig] that [Compile] refuses (a rule or client id template that
// is not well formed), a [BrokerAuth] or [Guard] that [NewWebhook] refuses
// (a Webhook that would answer anyone, broker credentials that are too
// weak or contradict each other), a Guard without Tokens (or, for
// Recheck, without their Revocations), a Provisioner without Revocations
// to revoke with. The message names the setting.
var ErrConfig = errors.New("mqttauth: invalid configuration")

// ErrIssue is under every error of [Provisioner.Issue] and
// [Provisioner.RevokeKey] for a request that cannot be met (a malformed
// application id, device id or key). Nothing is issued or revoked.
var ErrIssue = errors.New("mqttauth: invalid key request")

// errWebhookRequest is under every request body the Webhook refuses (it
// answers 400 with the message).
var errWebhookRequest = errors.New("mqttauth: invalid webhook request")

// The refusals of a CONNECT and of a topic, made once: the checks that
// return them run for every publish and delivery, and allocate nothing.
var (
	errInvalidIdentity error = &reason.Fault{Category: ErrAuthentication, Reason: ErrInvalidIdentity}
	errKeyMismatch     error = &reason.Fault{Category: ErrAuthentication, Reason: ErrKeyMismatch}
	errClientID        error = &reason.Fault{Category: ErrAuthentication, Reason: ErrClientID}

	errInvalidTopic  error = &reason.Fault{Category: ErrDenied, Reason: ErrInvalidTopic}
	errReservedTopic error = &reason.Fault{Category: ErrDenied, Reason: ErrReservedTopic}
	errNoRule        error = &reason.Fault{Category: ErrDenied, Reason: ErrNoRule}
)
