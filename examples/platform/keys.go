package platform

import (
	"context"
	"fmt"
	"sync"

	"github.com/latchsec/latch/token"
)

// Token key rotation. One keyring encrypts every token the platform
// issues: sessions, API tokens, and devices' MQTT secrets. It is kept in the
// database sealed under the master key. A change is made on a copy, stored,
// and only then applied (token.Keyring.Replace), so a failed write changes
// nothing and a restart finds the keys the tokens were issued under.

// tokenKeys is the token keyring and its stored copy.
type tokenKeys struct {
	base
	keys   *token.Keyring // every token's keys: API, sessions, MQTT secrets
	mu     sync.Mutex     // serializes key changes
	atRest *atRest
}

// loadTokenKeys loads the token keyring, made once and kept encrypted in
// the database.
func loadTokenKeys(ctx context.Context, b base, ar *atRest) (*tokenKeys, error) {
	set, err := loadSecret(ctx, b.db, ar, "token-keyring", func() ([]byte, error) {
		return token.NewKeyring().JWKSet()
	})
	if err != nil {
		return nil, fmt.Errorf("platform: token keyring: %w", err)
	}
	keys, err := token.ParseKeyring(set)
	if err != nil {
		return nil, err
	}
	return &tokenKeys{base: b, keys: keys, atRest: ar}, nil
}

// TokenKeyIDs returns the ids of the token keys, the active one first.
func (p *Platform) TokenKeyIDs() []string { return p.keys.keys.KeyIDs() }

// RotateTokenKey makes a new active token key and returns its id. Tokens
// issued before keep working under their key until it is retired; new
// ones use the new key. Rotate on a schedule: see package token on how
// many tokens one key may encrypt.
func (p *Platform) RotateTokenKey(ctx context.Context) (string, error) {
	return p.keys.change(ctx, "token key rotated", func(kr *token.Keyring) (string, error) { return kr.Rotate() })
}

// RetireTokenKey removes the verify-only token key kid: every token issued
// under it stops working at once, sessions, API tokens and device secrets
// alike (devices then need new credentials). Retire a key once the tokens
// under it have expired, or to cut them all off after a leak.
func (p *Platform) RetireTokenKey(ctx context.Context, kid string) error {
	_, err := p.keys.change(ctx, "token key retired", func(kr *token.Keyring) (string, error) { return kid, kr.Retire(kid) })
	return err
}

// change applies change to a copy of the keyring, stores the copy and
// only then puts it in place; it returns the key id change names, for the
// audit log.
func (k *tokenKeys) change(ctx context.Context, event string, change func(*token.Keyring) (string, error)) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	set, err := k.keys.JWKSet()
	if err != nil {
		return "", err
	}
	next, err := token.ParseKeyring(set)
	if err != nil {
		return "", err
	}
	kid, err := change(next)
	if err != nil {
		return "", err
	}
	if set, err = next.JWKSet(); err != nil {
		return "", err
	}
	if err := storeSecret(ctx, k.db, k.atRest, "token-keyring", set); err != nil {
		return "", err
	}
	if err := k.keys.Replace(next); err != nil {
		return "", err
	}
	k.audit.Info(event, "kid", kid, "keys", len(next.KeyIDs()))
	return kid, nil
}
