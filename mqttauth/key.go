package mqttauth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/token"
)

// keyPrefix starts every application key.
const keyPrefix = "mk_"

// ConnectScope is the scope every secret carries; a token without it is not
// an MQTT secret.
const ConnectScope = "mqtt:connect"

// keyLen is the length of a key: the prefix and 128 random bits in
// lower-case base32 without padding.
const keyLen = len(keyPrefix) + 26

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ValidKey reports whether s is a well-formed application key: "mk_" and
// 26 characters of lower-case base32 (128 bits), in the one canonical form.
func ValidKey(s string) bool {
	if len(s) != keyLen || !strings.HasPrefix(s, keyPrefix) {
		return false
	}
	for i := len(keyPrefix); i < len(s); i++ {
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
	return keyPrefix + keyEncoding.EncodeToString(b[:])
}

// The token subject of a secret: "mqtt:" KEY [":" DEVICE]. Keys have a fixed
// length, so the device id may hold any character ValidIdentity allows.
const subjectPrefix = "mqtt:"

func subject(key, device string) string {
	if device == "" {
		return subjectPrefix + key
	}
	return subjectPrefix + key + ":" + device
}

func parseSubject(sub string) (key, device string, ok bool) {
	s, found := strings.CutPrefix(sub, subjectPrefix)
	if !found || len(s) < keyLen || !ValidKey(s[:keyLen]) {
		return "", "", false
	}
	key, rest := s[:keyLen], s[keyLen:]
	if rest == "" {
		return key, "", true
	}
	device, found = strings.CutPrefix(rest, ":")
	if !found || !ValidIdentity(device) {
		return "", "", false
	}
	return key, device, true
}

// A KeyRequest asks [Provisioner.Issue] for a credential.
type KeyRequest struct {
	// App is the application the credential belongs to (required; see
	// [token.ValidAppID]).
	App string
	// Device is the device the credential belongs to, if any (see
	// [ValidIdentity]); rules using {device} apply only to credentials
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

// A Provisioner makes the credentials devices and services connect with:
// application keys and their secrets (what pairing.Provisioning carries to
// a device), and revokes them. Tokens makes the secrets: give it a
// token.Config with an Audience of its own (such as "mqtt"), so that API
// tokens and MQTT secrets never stand in for each other, and the same
// Config to the [Guard]'s token.Verifier.
type Provisioner struct {
	Tokens *token.Issuer
}

// Issue makes a credential: a new key (or r.Key) and a secret bound to it,
// its application and its device. Requests that cannot be issued fail with
// an error under [ErrIssue], or token.ErrClaims.
func (pv *Provisioner) Issue(ctx context.Context, r KeyRequest) (*Credential, error) {
	if pv.Tokens == nil {
		return nil, reason.Newf(ErrConfig, nil, "Provisioner has no Tokens")
	}
	if !token.ValidAppID(r.App) {
		return nil, reason.Newf(ErrIssue, nil, "malformed application id")
	}
	if r.Device != "" && !ValidIdentity(r.Device) {
		return nil, reason.Newf(ErrIssue, nil, "malformed device id")
	}
	key := r.Key
	if key == "" {
		key = newKey()
	} else if !ValidKey(key) {
		return nil, reason.Newf(ErrIssue, nil, "malformed key")
	}
	scopes := append([]string{ConnectScope}, r.Permissions...)
	tok, claims, err := pv.Tokens.Issue(ctx, token.Claims{
		Subject: subject(key, r.Device),
		Scopes:  scopes,
		Apps:    []string{r.App},
		Expires: r.Expires,
		// A device keeps its secret for years: without an expiry it works
		// until revoked (RevokeKey, RevokeSecret), asked for by name.
		NeverExpires: r.Expires.IsZero(),
	})
	if err != nil {
		if errors.Is(err, token.ErrClaims) {
			return nil, reason.Wrap(ErrIssue, nil, err)
		}
		return nil, reason.Wrap(ErrConfig, nil, err)
	}
	return &Credential{Key: key, Secret: tok, App: r.App, Device: r.Device, SecretID: claims.ID, Expires: claims.Expires}, nil
}

// RevokeKey revokes every secret of key (with its device, as issued)
// issued up to now, including one issued within this second, through
// Tokens.Revocations. A new secret issued for the key from the next second
// on works. A malformed key or device is an error under [ErrIssue].
func (pv *Provisioner) RevokeKey(ctx context.Context, key, device string) error {
	if !ValidKey(key) || (device != "" && !ValidIdentity(device)) {
		return reason.Newf(ErrIssue, nil, "malformed key or device")
	}
	if pv.Tokens == nil || pv.Tokens.Revocations == nil {
		return reason.Newf(ErrConfig, nil, "Provisioner.Tokens has no Revocations")
	}
	now := time.Now
	if pv.Tokens.Now != nil {
		now = pv.Tokens.Now
	}
	// Token times are whole seconds; RevokeSubject revokes the tokens of
	// this second too.
	if err := pv.Tokens.Revocations.RevokeSubject(ctx, subject(key, device), now()); err != nil {
		return reason.Wrap(ErrUnavailable, nil, err)
	}
	return nil
}
