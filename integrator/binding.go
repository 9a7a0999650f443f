package integrator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"net"
	"net/url"
	"strings"

	"github.com/latchsec/latch/tlspolicy"
)

// binding is where a definition sends credentials: what the credentials a
// device stores for a request (a rotated refresh token, a cached access
// token) were delivered for. A later definition gets them only if its
// binding is equal, field by field.
//
// Every part is in canonical form, so that two definitions that send to the
// same place have equal bindings: schemes and hosts lower case, the port
// always written out. Comparing two bindings allocates nothing.
type binding struct {
	// The API's origin (RFC 6454): where the access token goes.
	apiScheme, apiHost, apiPort string
	// The transport: the level and the SHA-256 of the pinned certificate's
	// DER bytes, in lower-case hex ("" when nothing is pinned).
	level tlspolicy.Level
	pin   string

	// OAuthRefreshToken only: where the refresh token goes and as whom.
	// The token URL's query is not part of it: it names no other server.
	tokenScheme, tokenHost, tokenPort, tokenPath string
	clientID                                     string
	authStyle                                    string // resolved: authInHeader or authInParams
}

// The names of a binding's fields, as a BindingError and the log report
// them: JSON paths of the definition, never values.
const (
	fieldURLScheme      = "url.scheme"
	fieldURLHost        = "url.host"
	fieldURLPort        = "url.port"
	fieldLevel          = "securityLevel"
	fieldPin            = "pinnedCertificate"
	fieldTokenURLScheme = "authorization.tokenUrl.scheme"
	fieldTokenURLHost   = "authorization.tokenUrl.host"
	fieldTokenURLPort   = "authorization.tokenUrl.port"
	fieldTokenURLPath   = "authorization.tokenUrl.path"
	fieldClientID       = "authorization.clientId"
	fieldAuthStyle      = "authorization.authStyle"
)

// bindingOf computes the binding of a valid request.
func bindingOf(r *Request) binding {
	var b binding
	b.apiScheme, b.apiHost, b.apiPort, _ = splitURL(r.URL)
	b.level = r.SecurityLevel
	b.pin = pinDigest(r.PinnedCertificate)
	if a := &r.Authorization; a.Type == oauthRefreshToken {
		b.tokenScheme, b.tokenHost, b.tokenPort, b.tokenPath = splitURL(a.TokenURL)
		b.clientID = a.ClientID
		b.authStyle = a.style()
	}
	return b
}

// splitURL returns the canonical scheme, host, port and escaped path of a
// URL that validated. An unparsable URL gives empty parts.
func splitURL(raw string) (scheme, host, port, path string) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", ""
	}
	scheme = strings.ToLower(u.Scheme)
	port = u.Port()
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	return scheme, strings.ToLower(u.Hostname()), port, u.EscapedPath()
}

// joinURL is the inverse of splitURL: the canonical text of an origin (path
// "") or of a token endpoint. A "%" in the host (an IPv6 zone, say) is
// escaped again, as URLs write it.
func joinURL(scheme, host, port, path string) string {
	return scheme + "://" + net.JoinHostPort(strings.ReplaceAll(host, "%", "%25"), port) + path
}

// pinDigest is the SHA-256 of a pinned certificate's DER bytes in hex, or
// "" when there is none. Re-encoding the PEM (line length, white space)
// does not change it.
func pinDigest(pemText string) string {
	if strings.TrimSpace(pemText) == "" {
		return ""
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return "" // cannot happen after Validate
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:])
}

// changed names the fields in which b and o differ, in a fixed order.
func (b *binding) changed(o *binding) []string {
	var f []string
	add := func(differs bool, name string) {
		if differs {
			f = append(f, name)
		}
	}
	add(b.apiScheme != o.apiScheme, fieldURLScheme)
	add(b.apiHost != o.apiHost, fieldURLHost)
	add(b.apiPort != o.apiPort, fieldURLPort)
	add(b.level != o.level, fieldLevel)
	add(b.pin != o.pin, fieldPin)
	add(b.tokenScheme != o.tokenScheme, fieldTokenURLScheme)
	add(b.tokenHost != o.tokenHost, fieldTokenURLHost)
	add(b.tokenPort != o.tokenPort, fieldTokenURLPort)
	add(b.tokenPath != o.tokenPath, fieldTokenURLPath)
	add(b.clientID != o.clientID, fieldClientID)
	add(b.authStyle != o.authStyle, fieldAuthStyle)
	return f
}
