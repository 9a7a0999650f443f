package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"time"
)

// An Issuer makes tokens under its [Config]: Keys and Issuer are required.
// Give its Verifiers the same Config. An Issuer is safe for concurrent use.
type Issuer struct {
	Config
}

// Issue makes a token from c and returns it with its claims, as the token
// holds them: keep the claims' ID and Expires where the service records
// the token, to revoke it later ([Issuer.Revoke]). The caller chooses
// Subject (required), Scopes (at least one), Apps, Audience (default
// Config.Audience), NotBefore (default now) and Expires (required: or
// NeverExpires, to ask by name for a token that works until revoked);
// times are truncated to whole seconds. Issue sets Issuer (Config.Issuer),
// IssuedAt and a random 128-bit ID: c must leave those, and Lineage,
// empty. Scopes and Apps are written sorted.
//
// Claims that cannot be issued give an error under [ErrClaims]; nothing is
// issued.
func (is *Issuer) Issue(ctx context.Context, c Claims) (string, *Claims, error) {
	keys, t, err := is.settings()
	if err != nil {
		return "", nil, err
	}
	switch {
	case c.Issuer != "" && c.Issuer != is.Issuer:
		return "", nil, claimsProblem("Issuer differs from Config.Issuer")
	case !c.IssuedAt.IsZero() || c.ID != "":
		return "", nil, claimsProblem("IssuedAt and ID are set by Issue")
	case len(c.Lineage) != 0:
		return "", nil, claimsProblem("Lineage is set by Narrow")
	case c.Expires.IsZero() && !c.NeverExpires:
		return "", nil, noExpiry
	case !c.Expires.IsZero() && c.NeverExpires:
		return "", nil, claimsProblem("Expires and NeverExpires are both set")
	}
	c.Issuer = is.Issuer
	if c.Audience == "" {
		c.Audience = is.Audience
	}
	c.IssuedAt = seconds(t)
	if c.NotBefore.IsZero() {
		c.NotBefore = c.IssuedAt
	} else if c.NotBefore = seconds(c.NotBefore); c.NotBefore.Before(c.IssuedAt) {
		return "", nil, claimsProblem("NotBefore is in the past")
	}
	if !c.Expires.IsZero() {
		if c.Expires = seconds(c.Expires); !c.Expires.After(c.NotBefore) {
			return "", nil, claimsProblem("Expires is not after NotBefore and now")
		}
	}
	c.Scopes = sorted(c.Scopes)
	c.Apps = sorted(c.Apps)
	return issue(keys, is.Prefix, &c)
}

// issue checks c's scopes (naming a malformed one in the error), gives c a
// new ID, checks the shape of the claims and encrypts them under the active
// key. It returns the token and c.
func issue(keys *keyset, prefix string, c *Claims) (string, *Claims, error) {
	for _, s := range c.Scopes {
		if !ValidScope(s) {
			return "", nil, claimsProblem(scopeProblem(s))
		}
	}
	var id [16]byte
	rand.Read(id[:])
	c.ID = base64.RawURLEncoding.EncodeToString(id[:])
	if problem := c.problem(); problem != "" {
		return "", nil, claimsProblem(problem)
	}
	claims := c.appendJSON(make([]byte, 0, 512))
	tok := seal(keys.active(), prefix, claims)
	if len(tok) > maxTokenSize {
		// Not reachable within the limits (a test checks the largest
		// claims); kept so that Issue never makes a token Verify refuses.
		return "", nil, claimsProblem("the token would be larger than 8192 bytes")
	}
	return tok, c, nil
}

// Narrow makes a child token from tok, a token of this Issuer that must
// verify (any audience; the child keeps it), and returns it with its claims
// (keep them as Issue's, to revoke the child): the child has the given scopes
// and apps and expires at exp, and each must be within the parent's. Nil
// scopes or apps keep the parent's; a zero exp keeps the parent's expiry.
// A parent limited to applications gives children limited to a subset of
// them; an unlimited parent can give children limited to any applications.
// The child's lineage is the parent's plus the parent's ID, so revoking the
// parent (or any ancestor) revokes the child.
//
// Asking for a scope, an application or an expiry beyond the parent's, or
// narrowing more than 8 times, fails with [ErrWidening] (under
// [ErrInvalid]); a parent that does not verify fails as in Verify.
// Narrow needs Config.Revocations.
func (is *Issuer) Narrow(ctx context.Context, tok string, scopes, apps []string, exp time.Time) (string, *Claims, error) {
	keys, t, err := is.settings()
	if err != nil {
		return "", nil, err
	}
	if is.Revocations == nil {
		return "", nil, configProblem("Config.Revocations is required to narrow")
	}
	parent, err := verify(ctx, &is.Config, keys, tok, t, "")
	if err != nil {
		return "", nil, err
	}
	child := *parent
	if len(parent.Lineage) >= maxLineage {
		return "", nil, widening("the parent was narrowed 8 times already, as many as a token may be")
	}
	child.Lineage = append(slices.Clip(parent.Lineage), parent.ID)
	if scopes != nil {
		for _, s := range scopes {
			if !slices.Contains(parent.Scopes, s) {
				return "", nil, widening("a scope the parent does not grant")
			}
		}
		child.Scopes = sorted(scopes)
	}
	if apps != nil {
		if len(apps) == 0 && len(parent.Apps) != 0 {
			return "", nil, widening("no application limit on a child of a limited parent")
		}
		for _, a := range apps {
			if len(parent.Apps) != 0 && !slices.Contains(parent.Apps, a) {
				return "", nil, widening("an application the parent is not limited to")
			}
		}
		child.Apps = sorted(apps)
	}
	if !exp.IsZero() {
		exp = seconds(exp)
		if !parent.Expires.IsZero() && exp.After(parent.Expires) {
			return "", nil, widening("an expiry later than the parent's")
		}
		child.Expires, child.NeverExpires = exp, false
	}
	child.IssuedAt = seconds(t)
	child.NotBefore = child.IssuedAt
	if parent.NotBefore.After(child.NotBefore) {
		child.NotBefore = parent.NotBefore
	}
	if !child.Expires.IsZero() && !child.Expires.After(child.NotBefore) {
		return "", nil, claimsProblem("Expires is not after now")
	}
	return issue(keys, is.Prefix, &child)
}

// Revoke revokes the token that c describes, and every token narrowed from
// it, in Config.Revocations, until the token expires (for ever for a token
// that never expires). c is the claims that Issue or Narrow returned with the
// token, or that Verify returned for it; Revoke uses their ID and Expires,
// which is what a service records to revoke a token later. To revoke every
// token of a subject ("sign out everywhere"), use the list's
// [Revocations.RevokeSubject].
func (is *Issuer) Revoke(ctx context.Context, c *Claims) error {
	if is.Revocations == nil {
		return configProblem("Config.Revocations is required to revoke")
	}
	return is.Revocations.RevokeID(ctx, c.ID, c.Expires)
}

// seconds truncates t to whole seconds, in UTC.
func seconds(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}
