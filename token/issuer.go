package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"time"
)

// An Issuer makes tokens. Keys and Name are required. An Issuer is safe for
// concurrent use.
type Issuer struct {
	// Keys encrypt the tokens: always under the active key.
	Keys *Keyring
	// Name goes into every token's iss.
	Name string
	// Audience is the aud of tokens whose Claims leave it empty.
	Audience string
	// Prefix, when not empty, is written before every token so that secret
	// scanners can recognise a leaked one (for example "lt_"): 1 to 16
	// characters of A-Z a-z 0-9 _. Verifiers must be given the same Prefix.
	Prefix string
	// Revocations is consulted by Narrow, which refuses to narrow a revoked
	// token. Issue does not use it.
	Revocations Revocations
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

func (is *Issuer) keys() (*keyset, error) {
	keys := is.Keys.load()
	switch {
	case keys == nil:
		return nil, errors.New("token: Issuer.Keys has no keys")
	case !checkText(is.Name):
		return nil, errors.New("token: Issuer.Name is empty, too long or has control characters")
	case !checkPrefix(is.Prefix):
		return nil, errors.New("token: Issuer.Prefix is not 1 to 16 characters of A-Z a-z 0-9 _")
	}
	return keys, nil
}

// Issue makes a token from c. The caller chooses Subject (required),
// Scopes (at least one), Apps, Audience (default Issuer.Audience),
// NotBefore (default now) and Expires (required: or NeverExpires, to ask
// by name for a token that works until revoked); times are truncated to
// whole seconds. Issue sets Issuer,
// IssuedAt and a random 128-bit ID: c must leave those, and Lineage,
// empty. Scopes and Apps are written sorted.
//
// Claims that cannot be issued give an error under [ErrClaims]; nothing is
// issued.
func (is *Issuer) Issue(ctx context.Context, c Claims) (string, error) {
	keys, err := is.keys()
	if err != nil {
		return "", err
	}
	switch {
	case c.Issuer != "" && c.Issuer != is.Name:
		return "", claimsError("Issuer differs from Issuer.Name")
	case !c.IssuedAt.IsZero() || c.ID != "":
		return "", claimsError("IssuedAt and ID are set by Issue")
	case len(c.Lineage) != 0:
		return "", claimsError("Lineage is set by Narrow")
	case c.Expires.IsZero() && !c.NeverExpires:
		return "", ErrNoExpiry
	case !c.Expires.IsZero() && c.NeverExpires:
		return "", claimsError("Expires and NeverExpires are both set")
	}
	for _, s := range c.Scopes {
		if !CheckScope(s) {
			return "", claimsError(scopeProblem(s))
		}
	}
	c.Issuer = is.Name
	if c.Audience == "" {
		c.Audience = is.Audience
	}
	c.IssuedAt = seconds(now(is.Now))
	if c.NotBefore.IsZero() {
		c.NotBefore = c.IssuedAt
	} else if c.NotBefore = seconds(c.NotBefore); c.NotBefore.Before(c.IssuedAt) {
		return "", claimsError("NotBefore is in the past")
	}
	if !c.Expires.IsZero() {
		if c.Expires = seconds(c.Expires); !c.Expires.After(c.NotBefore) {
			return "", claimsError("Expires is not after NotBefore and now")
		}
	}
	c.Scopes = sorted(c.Scopes)
	c.Apps = sorted(c.Apps)
	return issue(keys, is.Prefix, &c)
}

// issue gives c a new ID and encrypts it under the active key.
func issue(keys *keyset, prefix string, c *Claims) (string, error) {
	var id [16]byte
	rand.Read(id[:])
	c.ID = base64.RawURLEncoding.EncodeToString(id[:])
	if problem := c.problem(); problem != "" {
		return "", claimsError(problem)
	}
	buf := make([]byte, 0, 512)
	tok := seal(keys.active(), prefix, c.appendJSON(buf))
	if len(tok) > MaxTokenSize {
		// Not reachable within the limits (a test checks the largest
		// claims); kept so that Issue never makes a token Verify refuses.
		return "", claimsError("the token would be larger than MaxTokenSize")
	}
	return tok, nil
}

// Narrow makes a child token from tok, a token of this Issuer that must
// verify (any audience; the child keeps it): the child has the given scopes
// and apps and expires at exp, and each must be within the parent's. Nil
// scopes or apps keep the parent's; a zero exp keeps the parent's expiry.
// A parent limited to applications gives children limited to a subset of
// them; an unlimited parent can give children limited to any applications.
// The child's lineage is the parent's plus the parent's ID, so revoking the
// parent (or any ancestor) revokes the child.
//
// Asking for a scope, an application or an expiry beyond the parent's, or
// narrowing more than MaxLineage times, fails with [ErrWidening] (under
// [ErrInvalid]); a parent that does not verify fails as in Verify.
// Narrow needs Issuer.Revocations.
func (is *Issuer) Narrow(ctx context.Context, tok string, scopes, apps []string, exp time.Time) (string, error) {
	keys, err := is.keys()
	if err != nil {
		return "", err
	}
	if is.Revocations == nil {
		return "", errors.New("token: Issuer.Revocations is required to narrow")
	}
	t := now(is.Now)
	parent, err := verify(ctx, keys, is.Prefix, tok, t, is.Revocations, is.Name, "")
	if err != nil {
		return "", err
	}
	child := *parent
	if len(parent.Lineage) >= MaxLineage {
		return "", &invalidError{ErrWidening, "the parent was narrowed MaxLineage times already"}
	}
	child.Lineage = append(slices.Clip(parent.Lineage), parent.ID)
	if scopes != nil {
		for _, s := range scopes {
			if !parent.HasScope(s) {
				return "", &invalidError{ErrWidening, "a scope the parent does not grant"}
			}
		}
		child.Scopes = sorted(scopes)
	}
	if apps != nil {
		if len(apps) == 0 && len(parent.Apps) != 0 {
			return "", &invalidError{ErrWidening, "no application limit on a child of a limited parent"}
		}
		for _, a := range apps {
			if len(parent.Apps) != 0 && !slices.Contains(parent.Apps, a) {
				return "", &invalidError{ErrWidening, "an application the parent is not limited to"}
			}
		}
		child.Apps = sorted(apps)
	}
	if !exp.IsZero() {
		exp = seconds(exp)
		if !parent.Expires.IsZero() && exp.After(parent.Expires) {
			return "", &invalidError{ErrWidening, "an expiry later than the parent's"}
		}
		child.Expires, child.NeverExpires = exp, false
	}
	child.IssuedAt = seconds(t)
	child.NotBefore = child.IssuedAt
	if parent.NotBefore.After(child.NotBefore) {
		child.NotBefore = parent.NotBefore
	}
	if !child.Expires.IsZero() && !child.Expires.After(child.NotBefore) {
		return "", claimsError("Expires is not after now")
	}
	return issue(keys, is.Prefix, &child)
}

// seconds truncates t to whole seconds, in UTC.
func seconds(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}
