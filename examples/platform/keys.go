package platform

import (
	"context"

	"github.com/latchsec/latch/token"
)

// Token key rotation. One keyring encrypts every token the platform
// issues: sessions, API tokens, and devices' MQTT secrets. It is kept in the
// database sealed under the master key. A change is made on a copy, stored,
// and only then applied (token.Keyring.Replace), so a failed write changes
// nothing and a restart finds the keys the tokens were issued under.

// TokenKeyIDs returns the ids of the token keys, the active one first.
func (p *Platform) TokenKeyIDs() []string { return p.keys.KeyIDs() }

// RotateTokenKey makes a new active token key and returns its id. Tokens
// issued before keep working under their key until it is retired; new
// ones use the new key. Rotate on a schedule: see package token on how
// many tokens one key may encrypt.
func (p *Platform) RotateTokenKey(ctx context.Context) (string, error) {
	return p.changeKeys(ctx, "token key rotated", func(kr *token.Keyring) (string, error) { return kr.Rotate() })
}

// RetireTokenKey removes the verify-only token key kid: every token issued
// under it stops working at once, sessions, API tokens and device secrets
// alike (devices then need new credentials). Retire a key once the tokens
// under it have expired, or to cut them all off after a leak.
func (p *Platform) RetireTokenKey(ctx context.Context, kid string) error {
	_, err := p.changeKeys(ctx, "token key retired", func(kr *token.Keyring) (string, error) { return kid, kr.Retire(kid) })
	return err
}

func (p *Platform) changeKeys(ctx context.Context, event string, change func(*token.Keyring) (string, error)) (string, error) {
	p.keysMu.Lock()
	defer p.keysMu.Unlock()
	set, err := p.keys.JWKSet()
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
	if err := storeSecret(ctx, p.db, p.atRest, "token-keyring", set); err != nil {
		return "", err
	}
	if err := p.keys.Replace(next); err != nil {
		return "", err
	}
	p.audit.Info(event, "kid", kid, "keys", len(next.KeyIDs()))
	return kid, nil
}
