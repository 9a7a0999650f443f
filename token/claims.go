package token

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/token/internal/lexical"
)

// Claims are what a token says. Verify returns them; Issue takes the ones a
// caller chooses (Subject, Audience, Scopes, Apps, NotBefore, Expires) and
// fills in the rest.
//
// In the token they are a JWT claims set (RFC 7519) with exactly these
// members: iss, sub, aud (one string), iat, nbf, exp (whole seconds), jti,
// scope (space-separated, as in RFC 8693 and RFC 9068), app (an array) and
// lineage (an array).
type Claims struct {
	Issuer    string    // iss: who issued the token (Config.Issuer)
	Subject   string    // sub: whose token it is (a user or integrator id)
	Audience  string    // aud: the service the token is for
	IssuedAt  time.Time // iat: set by Issue
	NotBefore time.Time // nbf: not valid before; Issue defaults it to IssuedAt
	Expires   time.Time // exp: when the token stops working; required by Issue unless NeverExpires
	ID        string    // jti: 128 random bits, base64url; set by Issue

	// NeverExpires asks Issue for a token without exp, which works until
	// it is revoked (revocation is then its only off switch): a deliberate
	// choice, for credentials such as MQTT application secrets that a
	// device keeps for years. Issue refuses claims with neither Expires nor
	// NeverExpires ([ErrNoExpiry]), so that forgetting the expiry never
	// makes a token that works forever. Verify sets it for tokens without
	// exp.
	NeverExpires bool

	// Scopes are what the token grants, each "resource:action" (see
	// [ValidScope]). A token grants only what its scopes name: no
	// wildcards, no hierarchy.
	Scopes []string
	// Apps limits the token to these application ids (see [Claims.CheckApp]).
	// Empty means the token is not limited to particular applications.
	Apps []string
	// Lineage holds the IDs of the tokens this one was narrowed from, the
	// original first; empty for a token made by Issue. Revoking any of them
	// revokes this token.
	Lineage []string
}

// HasScope reports whether the claims grant scope, exactly as written.
func (c *Claims) HasScope(scope string) bool {
	return slices.Contains(c.Scopes, scope)
}

// CheckApp returns nil if the token may be used for the application app,
// and an error under [ErrInvalid] and [ErrWrongApp] if it is limited to
// other applications.
func (c *Claims) CheckApp(app string) error {
	if len(c.Apps) == 0 || slices.Contains(c.Apps, app) {
		return nil
	}
	return refusedApp
}

// Claim members, as bits of a set.
const (
	claimIss = 1 << iota
	claimSub
	claimAud
	claimIat
	claimNbf
	claimExp
	claimJti
	claimScope
	claimApp
	claimLineage

	claimsRequired = claimIss | claimSub | claimAud | claimIat | claimNbf | claimJti | claimScope
)

// parseClaims reads the claims JSON of a decrypted token. Every member must
// be one of the documented ones, once, with its documented type; iss, sub,
// aud, iat, nbf, jti and scope are required. It returns a description of
// the problem, or "".
func parseClaims(b []byte, c *Claims) string {
	r := strictjson.NewReader(b)
	if !r.Consume('{') {
		return "claims are not a JSON object"
	}
	var seen uint
	if !r.Consume('}') {
		for more := true; more; {
			name, err := r.Member()
			if err != nil {
				return "claims are not valid JSON"
			}
			var bit uint
			switch string(name) {
			case "iss":
				bit = claimIss
				c.Issuer, err = r.Str()
			case "sub":
				bit = claimSub
				c.Subject, err = r.Str()
			case "aud":
				bit = claimAud
				c.Audience, err = r.Str()
			case "iat":
				bit = claimIat
				c.IssuedAt, err = readDate(&r)
			case "nbf":
				bit = claimNbf
				c.NotBefore, err = readDate(&r)
			case "exp":
				bit = claimExp
				c.Expires, err = readDate(&r)
			case "jti":
				bit = claimJti
				c.ID, err = r.Str()
			case "scope":
				bit = claimScope
				var s string
				if s, err = r.Str(); err == nil {
					c.Scopes = splitScope(s)
				}
			case "app":
				bit = claimApp
				c.Apps, err = r.StrArray(maxApps)
			case "lineage":
				bit = claimLineage
				c.Lineage, err = r.StrArray(maxLineage)
			default:
				return "claims hold an unknown member"
			}
			if seen&bit != 0 {
				return "claims hold a duplicate member"
			}
			seen |= bit
			if err != nil {
				return "a claim has the wrong type or is not valid JSON"
			}
			if more, err = r.Next('}'); err != nil {
				return "claims are not valid JSON"
			}
		}
	}
	if !r.End() {
		return "claims are followed by data"
	}
	if seen&claimsRequired != claimsRequired {
		return "a required claim is missing"
	}
	c.NeverExpires = seen&claimExp == 0
	return c.problem()
}

// readDate reads a NumericDate: whole seconds, no fraction, exponent or
// sign (the tokens Issuer makes have whole seconds).
func readDate(r *strictjson.Reader) (time.Time, error) {
	v, err := r.Uint(maxNumericDate)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(v, 0).UTC(), nil
}

// splitScope splits a scope claim on single spaces. Empty items (leading,
// trailing or double spaces) are kept as "" so that ValidScope refuses them.
// The items share s's memory.
func splitScope(s string) []string {
	if len(s) > maxScopes*(2*maxScopePart+2) {
		return nil // refused by problem as zero scopes
	}
	n := strings.Count(s, " ") + 1
	if n > maxScopes {
		return nil
	}
	out := make([]string, 0, n)
	for {
		item, rest, more := strings.Cut(s, " ")
		out = append(out, item)
		if !more {
			return out
		}
		s = rest
	}
}

// problem returns what is wrong with the shape of c, or "" when it is a
// set of claims that Issue could have made. The text goes into error
// messages: it never quotes a claim.
func (c *Claims) problem() string {
	switch {
	case !lexical.Text(c.Issuer, maxText):
		return "iss is empty, too long or has control characters"
	case !lexical.Text(c.Subject, maxText):
		return "sub is empty, too long or has control characters"
	case !lexical.Text(c.Audience, maxText):
		return "aud is empty, too long or has control characters"
	case !validTokenID(c.ID):
		return "jti is not 128 bits in base64url"
	case len(c.Scopes) == 0 || len(c.Scopes) > maxScopes:
		return "scope must hold 1 to " + strconv.Itoa(maxScopes) + " scopes"
	case len(c.Apps) > maxApps:
		return "app holds more than " + strconv.Itoa(maxApps) + " application ids"
	case len(c.Lineage) > maxLineage:
		return "lineage is longer than " + strconv.Itoa(maxLineage)
	case c.IssuedAt.IsZero() || c.NotBefore.Before(c.IssuedAt):
		return "nbf is before iat"
	case !c.Expires.IsZero() && !c.Expires.After(c.NotBefore):
		return "exp is not after nbf"
	case c.NeverExpires != c.Expires.IsZero():
		return "exp and NeverExpires disagree"
	}
	for i, s := range c.Scopes {
		if !ValidScope(s) {
			return "a scope is outside the scope grammar"
		}
		if slices.Contains(c.Scopes[:i], s) {
			return "a scope is repeated"
		}
	}
	for i, a := range c.Apps {
		if !ValidAppID(a) {
			return "an application id is outside its grammar"
		}
		if slices.Contains(c.Apps[:i], a) {
			return "an application id is repeated"
		}
	}
	for i, id := range c.Lineage {
		if !validTokenID(id) || id == c.ID || slices.Contains(c.Lineage[:i], id) {
			return "lineage holds a malformed or repeated id"
		}
	}
	if !numericDate(c.IssuedAt) || !numericDate(c.NotBefore) || !(c.Expires.IsZero() || numericDate(c.Expires)) {
		return "a time is out of range or not whole seconds"
	}
	return ""
}

// ValidScope reports whether s is a well-formed scope. The grammar:
//
//	scope    = resource ":" action
//	resource = name
//	action   = name
//	name     = lower *31( lower / DIGIT / "_" / "-" / "." )
//	lower    = %x61-7A ; a-z
//
// So "data:read" and "devices:manage" are scopes; "data", "Data:read",
// "data:*", "data:read:all" and "data: read" are not. There are no
// wildcards: a scope grants exactly what it names.
func ValidScope(s string) bool {
	resource, action, ok := strings.Cut(s, ":")
	return ok && scopeName(resource) && scopeName(action)
}

// scopeGrammar says in words what [ValidScope] accepts, for error messages.
const scopeGrammar = `resource:action, each 1 to 32 characters of a-z 0-9 _ - . starting with a-z (such as "data:read")`

// scopeProblem names a malformed scope (quoted, cut to 64 bytes) and the
// grammar it breaks.
func scopeProblem(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return "scope " + strconv.QuoteToASCII(s) + " is not " + scopeGrammar
}

func scopeName(s string) bool {
	if len(s) == 0 || len(s) > maxScopePart || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ValidAppID reports whether s is a well-formed application id: 1 to 64
// bytes of ASCII letters, digits, "_", "-" and ".".
func ValidAppID(s string) bool {
	return lexical.IDChars(s, maxAppID, "_-.")
}

// validTokenID reports whether s is a token ID: 128 bits in canonical
// base64url, 22 characters.
func validTokenID(s string) bool {
	_, ok := lexical.TokenID(s)
	return ok
}

// numericDate reports whether t fits a token's time claims: whole seconds
// from 1970 to 9999.
func numericDate(t time.Time) bool {
	u := t.Unix()
	return u >= 0 && u <= maxNumericDate && t.Nanosecond() == 0
}

// appendJSON appends the claims as the JSON object Issue puts in a token.
// c must have passed problem.
func (c *Claims) appendJSON(b []byte) []byte {
	b = append(b, `{"iss":`...)
	b = strictjson.AppendString(b, c.Issuer)
	b = append(b, `,"sub":`...)
	b = strictjson.AppendString(b, c.Subject)
	b = append(b, `,"aud":`...)
	b = strictjson.AppendString(b, c.Audience)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt.Unix(), 10)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, c.NotBefore.Unix(), 10)
	if !c.Expires.IsZero() {
		b = append(b, `,"exp":`...)
		b = strconv.AppendInt(b, c.Expires.Unix(), 10)
	}
	b = append(b, `,"jti":"`...)
	b = append(b, c.ID...)
	b = append(b, `","scope":"`...)
	for i, s := range c.Scopes {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, s...)
	}
	b = append(b, '"')
	b = appendIDs(b, `,"app":[`, c.Apps)
	b = appendIDs(b, `,"lineage":[`, c.Lineage)
	return append(b, '}')
}

// appendIDs appends a member holding an array of grammar-checked ids (no
// escaping needed), or nothing for an empty array.
func appendIDs(b []byte, member string, ids []string) []byte {
	if len(ids) == 0 {
		return b
	}
	b = append(b, member...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, id...)
		b = append(b, '"')
	}
	return append(b, ']')
}
