package token

import (
	"time"

	"github.com/latchsec/latch/token/internal/lexical"
)

// A Config holds what an [Issuer] and every [Verifier] of its tokens must
// agree on, set once and given to both:
//
//	cfg := token.Config{Keys: keys, Issuer: "https://platform.example", Audience: "api",
//		Prefix: "lt_", Revocations: revocations}
//	issuer := &token.Issuer{Config: cfg}
//	verifier := &token.Verifier{Config: cfg}
//
// Copies of a Config share its Keyring and its revocation list, so every
// Issuer and Verifier made from it sees a key rotation or a revocation at
// once. A service with an audience of its own (MQTT secrets beside API
// tokens) takes a copy with another Audience.
type Config struct {
	// Keys encrypt new tokens, under the active key, and decrypt tokens,
	// with the key each token's kid names. Required.
	Keys *Keyring
	// Issuer is the iss of the tokens: who issues them, such as the
	// platform's URL. An Issuer writes it into every token; a Verifier
	// accepts only tokens that carry it. Required: 1 to 256 bytes without
	// control characters.
	Issuer string
	// Audience is the aud of the tokens: the service they are for. An
	// Issuer writes it into tokens whose Claims leave Audience empty; a
	// Verifier accepts only tokens for it, and requires it. Give each
	// service its own, so that a token for one cannot be used at another.
	Audience string
	// Prefix, when not empty, is written before every token and required
	// at the start of every token verified, so that secret scanners can
	// recognise a leaked one (for example "lt_"): 1 to 16 characters of
	// A-Z a-z 0-9 _.
	Prefix string
	// Revocations is the revocation list. A Verifier requires it and
	// consults it on every verification (from local memory: see
	// [Revocations]); an Issuer needs it to narrow a token
	// ([Issuer.Narrow] refuses a revoked parent) and to revoke one
	// ([Issuer.Revoke]), not to issue.
	Revocations Revocations
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// The settings are checked here, before a token is read or written, with
// nothing but this file and token/internal/lexical, so that the walk of a
// token goes on from here through codec.go, keyring.go and claims.go
// (claims.go, keyring.go and codec.go when issuing) without coming back.
// Their errors are configuration errors, not [ErrInvalid].

// settings checks the settings that issuing and verifying both need
// (Prefix, Issuer, Keys, in that order) and returns what they work with:
// the current keys and the current time.
func (c *Config) settings() (*keyset, time.Time, error) {
	switch {
	case !lexical.Prefix(c.Prefix):
		return nil, time.Time{}, configProblem("Config.Prefix is not 1 to 16 characters of A-Z a-z 0-9 _")
	case !lexical.Text(c.Issuer, maxText):
		return nil, time.Time{}, configProblem("Config.Issuer is empty, too long or has control characters")
	}
	keys, err := c.currentKeys()
	if err != nil {
		return nil, time.Time{}, err
	}
	return keys, c.now(), nil
}

// inspectKeys checks the settings that [Config.Inspect] reads (Keys, then
// Prefix) and returns the current keys.
func (c *Config) inspectKeys() (*keyset, error) {
	keys, err := c.currentKeys()
	if err != nil {
		return nil, err
	}
	if !lexical.Prefix(c.Prefix) {
		return nil, configProblem("Config.Prefix is not 1 to 16 characters of A-Z a-z 0-9 _")
	}
	return keys, nil
}

// currentKeys returns the keys c.Keys holds now. It reads the Keyring's
// state directly (as Keyring's own load does) so that the check of the
// settings does not step into keyring.go ahead of the token.
func (c *Config) currentKeys() (*keyset, error) {
	if c.Keys != nil {
		if keys := c.Keys.keys.Load(); keys != nil {
			return keys, nil
		}
	}
	return nil, configProblem("Config.Keys has no keys")
}

// now returns the time of c.Now, or time.Now when it is nil.
func (c *Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}
