package mqttauth

import "errors"

// ErrAuthentication is under every refusal of a CONNECT by
// [Verifier.Authenticate]: test for it with errors.Is. Tell the client no
// more than "bad user name or password" (CONNACK 0x86, or 0x04 in MQTT
// 3.1.1); the reason is a second error under the same one, for the server's
// logs: one of the sentinels below, or a token reason such as
// [token.ErrExpired] or [token.ErrRevoked].
var ErrAuthentication = errors.New("mqttauth: bad user name or password")

// Reasons a CONNECT is refused. Each one is also [ErrAuthentication].
var (
	// ErrInvalidIdentity: the client id or the user name is empty, too
	// long, not valid UTF-8, or contains "+", "#", "/", NUL or another
	// control character, or starts with "$" (see [CheckIdentity]); or the
	// user name is not an application key (see [CheckKey]).
	ErrInvalidIdentity error = &authReason{"mqttauth: invalid client id or user name"}
	// ErrKeyMismatch: the secret is a valid token but not a secret of the
	// application key given as the user name (the secret of another key,
	// or a token that is not an MQTT secret at all).
	ErrKeyMismatch error = &authReason{"mqttauth: secret does not belong to this key"}
	// ErrClientID: the client id is not one that the credential may use
	// (see [Policy.ClientIDs]); it may be another device's.
	ErrClientID error = &authReason{"mqttauth: client id not allowed for this key"}
)

// ErrDenied is under every refusal of a publish or a subscription by
// [Principal.CanPublish] and [Principal.CanSubscribe].
var ErrDenied = errors.New("mqttauth: not authorized")

// Reasons a topic or filter is refused. Each one is also [ErrDenied].
var (
	// ErrInvalidTopic: the topic name or filter is not valid MQTT: empty,
	// longer than [MaxTopicLength] bytes or [MaxTopicLevels] levels, not
	// valid UTF-8, containing NUL or another control character, a wildcard
	// in a topic name, a "+" or "#" that is not a whole level, a "#" that
	// is not last, a malformed "$share/" or "$queue/" subscription, a
	// topic name under "$share" or "$queue".
	ErrInvalidTopic error = &aclReason{"mqttauth: invalid topic"}
	// ErrReservedTopic: a publish to $SYS, which no client may do.
	ErrReservedTopic error = &aclReason{"mqttauth: reserved topic"}
	// ErrNoRule: no rule of the policy allows it (deny by default); for a
	// filter: the rules do not allow every topic it can match.
	ErrNoRule error = &aclReason{"mqttauth: no rule allows it"}
)

// ErrPolicy is under every error of [Compile]: a rule or client id template
// that is not well formed.
var ErrPolicy = errors.New("mqttauth: invalid policy")

// ErrIssue is returned by [Issuer.Issue] for a request that cannot be
// issued (a malformed application id, device id or key). Nothing is issued.
var ErrIssue = errors.New("mqttauth: invalid key request")

type authReason struct{ msg string }

func (r *authReason) Error() string        { return r.msg }
func (r *authReason) Is(target error) bool { return target == ErrAuthentication }

type aclReason struct{ msg string }

func (r *aclReason) Error() string        { return r.msg }
func (r *aclReason) Is(target error) bool { return target == ErrDenied }
