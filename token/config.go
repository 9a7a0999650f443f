package token

import "time"

// A Config holds what an [Issuer] and the [Verifier]s of its tokens must
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

// keys checks the settings that issuing and verifying both need and returns
// the current keys. Its errors are configuration errors, not [ErrInvalid].
func (c *Config) keys() (*keyset, error) {
	switch {
	case !checkPrefix(c.Prefix):
		return nil, configProblem("Config.Prefix is not 1 to 16 characters of A-Z a-z 0-9 _")
	case !checkText(c.Issuer):
		return nil, configProblem("Config.Issuer is empty, too long or has control characters")
	}
	keys := c.Keys.load()
	if keys == nil {
		return nil, configProblem("Config.Keys has no keys")
	}
	return keys, nil
}

// checkPrefix accepts "" and 1 to 16 characters of A-Z a-z 0-9 _.
func checkPrefix(p string) bool {
	return p == "" || idChars(p, 16, "_")
}
