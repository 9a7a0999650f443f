package token

import (
	"context"
	"time"
)

// A Verifier checks tokens under its [Config], the one their Issuer has:
// Keys, Issuer, Audience and Revocations are required; a Verifier missing
// one of them refuses every token with a configuration error (not
// ErrInvalid). A Verifier is safe for concurrent use.
type Verifier struct {
	Config
}

// Verify decrypts tok and returns its claims if it is a valid token for
// this Verifier now: in the exact form Issuer produces, encrypted under a key
// of the keyring, with the Verifier's issuer and audience, within its
// validity period (give or take [Leeway]) and not revoked.
//
// Every refusal is an error under [ErrInvalid], with the reason under it as
// well (ErrMalformed, ErrUnknownKey, ErrDecrypt, ErrExpired, ErrNotYetValid,
// ErrWrongIssuer, ErrWrongAudience, ErrRevoked). Tell a client no more than
// "invalid token". An error that is not ErrInvalid means the server could
// not decide (a misconfigured Verifier, or a revocation list that cannot
// answer, [ErrRevocationUnavailable]): the token must be refused too.
//
// Verify does not check the token's scopes or applications: see
// [Claims.HasScope], [Claims.CheckApp] and [Middleware].
func (v *Verifier) Verify(ctx context.Context, tok string) (*Claims, error) {
	keys, t, err := v.settings()
	switch {
	case err != nil:
		return nil, err
	case v.Audience == "":
		return nil, configProblem("Config.Audience is required to verify")
	case v.Revocations == nil:
		return nil, configProblem("Config.Revocations is required to verify")
	}
	return verify(ctx, &v.Config, keys, tok, t, v.Audience)
}

// Inspect decrypts tok with the Config's Keys (and Prefix) and returns its
// claims and the kid of the key that decrypted it, without checking the
// issuer, the audience, the validity period or revocation: only Keys and
// Prefix are read. It is for tools that show what a token says, such as
// latch token inspect; never grant anything on its result: use
// [Verifier.Verify].
//
// A token that is not in the form Issuer produces, names no key of Keys or
// fails authentication is refused as by Verify, with an error under
// [ErrInvalid] (ErrMalformed, ErrUnknownKey, ErrDecrypt).
func (c *Config) Inspect(tok string) (*Claims, string, error) {
	ks, err := c.inspectKeys()
	if err != nil {
		return nil, "", err
	}
	plain, kid, err := openKid(ks, c.Prefix, tok)
	if err != nil {
		return nil, "", err
	}
	claims := new(Claims)
	if problem := parseClaims(plain, claims); problem != "" {
		return nil, "", malformed(problem)
	}
	return claims, kid, nil
}

// verify is Verify for Verifier and Issuer.Narrow: tok must be a token of
// cfg, decrypted with keys, valid at now. An empty aud accepts any
// audience.
func verify(ctx context.Context, cfg *Config, keys *keyset, tok string, now time.Time, aud string) (*Claims, error) {
	plain, err := open(keys, cfg.Prefix, tok)
	if err != nil {
		return nil, err
	}
	c := new(Claims)
	if problem := parseClaims(plain, c); problem != "" {
		return nil, malformed(problem)
	}
	switch {
	case c.Issuer != cfg.Issuer:
		return nil, refusedIssuer
	case aud != "" && c.Audience != aud:
		return nil, refusedAudience
	case !c.Expires.IsZero() && !now.Before(c.Expires.Add(Leeway)):
		return nil, refusedExpired
	case now.Add(Leeway).Before(c.NotBefore) || now.Add(Leeway).Before(c.IssuedAt):
		return nil, refusedEarly
	}
	revoked, err := cfg.Revocations.Revoked(ctx, c)
	switch {
	case err != nil:
		return nil, revocationFailed(err)
	case revoked:
		return nil, refusedRevoked
	}
	return c, nil
}
