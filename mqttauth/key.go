package mqttauth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/latchsec/latch/token"
)

// KeyPrefix starts every application key.
const KeyPrefix = "mk_"

// ConnectScope is the scope every secret carries; a token without it is not
// an MQTT secret.
const ConnectScope = "mqtt:connect"

// keyLen is the length of a key: the prefix and 128 random bits in
// lower-case base32 without padding.
const keyLen = len(KeyPrefix) + 26

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// CheckKey reports whether s is a well-formed application key: "mk_" and
// 26 characters of lower-case base32 (128 bits), in the one canonical form.
func CheckKey(s string) bool {
	if len(s) != keyLen || !strings.HasPrefix(s, KeyPrefix) {
		return false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	// 26 characters hold 130 bits: the last one's two low bits are zero
	// in the canonical form.
	last := strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", s[len(s)-1])
	return last&3 == 0
}

func newKey() string {
	var b [16]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic("mqttauth: crypto/rand failed: " + err.Error())
	}
	return KeyPrefix + keyEncoding.EncodeToString(b[:])
}

// The token subject of a secret: "mqtt:" KEY [":" DEVICE]. Keys have a fixed
// length, so the device id may hold any character CheckIdentity allows.
const subjectPrefix = "mqtt:"

func subject(key, device string) string {
	if device == "" {
		return subjectPrefix + key
	}
	return subjectPrefix + key + ":" + device
}

func parseSubject(sub string) (key, device string, ok bool) {
	s, found := strings.CutPrefix(sub, subjectPrefix)
	if !found || len(s) < keyLen || !CheckKey(s[:keyLen]) {
		return "", "", false
	}
	key, rest := s[:keyLen], s[keyLen:]
	if rest == "" {
		return key, "", true
	}
	device, found = strings.CutPrefix(rest, ":")
	if !found || !CheckIdentity(device) {
		return "", "", false
	}
	return key, device, true
}

// A KeyRequest asks [Issuer.Issue] for a credential.
type KeyRequest struct {
	// App is the application the credential belongs to (required; see
	// [token.CheckAppID]).
	App string
	// Device is the device the credential belongs to, if any (see
	// [CheckIdentity]); rules using {device} apply only to credentials
	// with one.
	Device string
	// Key, when set, is an existing key of the same application and
	// device to issue a new secret for (rotation). Empty makes a new key.
	Key string
	// Permissions are scopes beyond [ConnectScope] that the secret
	// carries, for rules with a Permission.
	Permissions []string
	// Expires is when the secret stops working; zero for a secret that
	// works until it is revoked.
	Expires time.Time
}

// A Credential is an application key and its secret: the MQTT user name and
// password of a device or service. The secret is shown once; the platform
// keeps the key, App, Device and SecretID (for revocation), never Secret.
// A Credential prints without its secret.
type Credential struct {
	Key      string // the user name: public
	Secret   string // the password: a token; give it to the device and forget it
	App      string
	Device   string
	SecretID string    // the secret's token ID, for token.Revocations.RevokeID
	Expires  time.Time // zero: no expiry
}

// Format prints the credential without its secret, whatever the verb.
func (c Credential) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Key:%s App:%s Device:%s SecretID:%s Secret:[redacted]}", c.Key, c.App, c.Device, c.SecretID)
}

// An Issuer makes application keys and secrets. Tokens makes the secrets:
// give it a token.Config with an Audience of its own (such as "mqtt"), so
// that API tokens and MQTT secrets never stand in for each other, and the
// same Config to the [Verifier]'s token.Verifier.
type Issuer struct {
	Tokens *token.Issuer
}

// Issue makes a credential: a new key (or r.Key) and a secret bound to it,
// its application and its device. Requests that cannot be issued fail with
// an error under ErrIssue, or token.ErrClaims.
func (is *Issuer) Issue(ctx context.Context, r KeyRequest) (*Credential, error) {
	if !token.CheckAppID(r.App) {
		return nil, fmt.Errorf("%w: malformed application id", ErrIssue)
	}
	if r.Device != "" && !CheckIdentity(r.Device) {
		return nil, fmt.Errorf("%w: malformed device id", ErrIssue)
	}
	key := r.Key
	if key == "" {
		key = newKey()
	} else if !CheckKey(key) {
		return nil, fmt.Errorf("%w: malformed key", ErrIssue)
	}
	scopes := append([]string{ConnectScope}, r.Permissions...)
	tok, claims, err := is.Tokens.Issue(ctx, token.Claims{
		Subject: subject(key, r.Device),
		Scopes:  scopes,
		Apps:    []string{r.App},
		Expires: r.Expires,
		// A device keeps its secret for years: without an expiry it works
		// until revoked (RevokeKey, RevokeSecret), asked for by name.
		NeverExpires: r.Expires.IsZero(),
	})
	if err != nil {
		return nil, fmt.Errorf("mqttauth: %w", err)
	}
	return &Credential{Key: key, Secret: tok, App: r.App, Device: r.Device, SecretID: claims.ID, Expires: claims.Expires}, nil
}

// RevokeKey revokes every secret of key (with its device, as issued)
// issued up to now, including one issued within this second, through
// Tokens.Revocations. A new secret issued for the key from the next second
// on works.
func (is *Issuer) RevokeKey(ctx context.Context, key, device string) error {
	if !CheckKey(key) || (device != "" && !CheckIdentity(device)) {
		return fmt.Errorf("%w: malformed key or device", ErrIssue)
	}
	if is.Tokens.Revocations == nil {
		return fmt.Errorf("mqttauth: Issuer.Tokens has no Revocations")
	}
	now := time.Now
	if is.Tokens.Now != nil {
		now = is.Tokens.Now
	}
	// Token times are whole seconds; RevokeSubject revokes the tokens of
	// this second too.
	return is.Tokens.Revocations.RevokeSubject(ctx, subject(key, device), now())
}
