package integrator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/latchsec/latch/tlspolicy"
)

// storedVersion labels version 1 of the stored form.
const storedVersion = "latch-integrator-credential/v1"

// stored is what a device keeps for an OAuthRefreshToken request between
// restarts: the refresh token, the binding of the definition that delivered
// it, and the digest of the refresh token that definition carried (the
// start of the rotation chain, so that a definition that carries it again
// is known not to bring a credential of its own).
//
// Its text form, what Options.SaveRefreshToken is given and what the
// device gives back in Options.RefreshToken, is one line of nine fields
// separated by single spaces:
//
//	latch-integrator-credential/v1 ORIGIN LEVEL PIN TOKEN-ENDPOINT CLIENT-ID AUTH-STYLE DELIVERED REFRESH-TOKEN
//
// where
//   - ORIGIN: the API URL's scheme, host and port, as scheme://host:port
//     (lower case, the port always written, IPv6 hosts in brackets, a
//     "%" in the host, as of an IPv6 zone, written %25);
//   - LEVEL: the security level's name (TlsWithCACheck, ...);
//   - PIN: the SHA-256 of the pinned certificate's DER bytes in lower-case
//     hex, or "-" when the level pins nothing;
//   - TOKEN-ENDPOINT: scheme://host:port/path of the token URL, its path
//     escaped as in the request line, without the query;
//   - CLIENT-ID: the OAuth client id;
//   - AUTH-STYLE: InHeader or InParams (the default resolved);
//   - DELIVERED: the SHA-256 of the delivering definition's refresh token
//     in lower-case hex;
//   - REFRESH-TOKEN: the refresh token to use.
//
// No field can hold a space: URLs are in escaped form and the client id
// and tokens are visible ASCII. The form is canonical: parsing and writing
// it again gives the same bytes, and anything else is refused.
//
// A value without a space is a bare refresh token, as releases before the
// stored form saved it: legacy, bound to the first definition it is used
// with.
type stored struct {
	legacy    bool
	binding   binding
	delivered string
	refresh   string
}

// tokenDigest is the SHA-256 of a refresh token in lower-case hex.
func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// marshal writes the stored form. s must be bound (not legacy).
func (s *stored) marshal() string {
	b := &s.binding
	pin := b.pin
	if pin == "" {
		pin = "-"
	}
	return strings.Join([]string{
		storedVersion,
		joinURL(b.apiScheme, b.apiHost, b.apiPort, ""),
		b.level.String(),
		pin,
		joinURL(b.tokenScheme, b.tokenHost, b.tokenPort, b.tokenPath),
		b.clientID,
		b.authStyle,
		s.delivered,
		s.refresh,
	}, " ")
}

// parseStored reads what the device stored. The empty string means nothing
// is stored (nil, nil). Every error matches ErrStoredState and names the
// field at fault, never its value.
func parseStored(text string) (*stored, error) {
	switch {
	case text == "":
		return nil, nil
	case len(text) > maxStored:
		return nil, storedError(fmt.Sprintf("longer than %d bytes", maxStored))
	case !strings.Contains(text, " "):
		if !validVisible(text, maxToken) {
			return nil, storedError("neither the stored form nor a refresh token")
		}
		return &stored{legacy: true, refresh: text}, nil
	}
	f := strings.Split(text, " ")
	if f[0] != storedVersion {
		return nil, storedError("unknown version (this release reads " + storedVersion + ")")
	}
	if len(f) != 9 {
		return nil, storedError(fmt.Sprintf("%d fields where 9 are wanted", len(f)))
	}
	var s stored
	b := &s.binding
	if err := b.level.UnmarshalText([]byte(f[2])); err != nil {
		return nil, storedError("level is not a security level's name")
	}
	var ok bool
	if b.apiScheme, b.apiHost, b.apiPort, ok = parseStoredURL(f[1], b.level); !ok || f[1] != joinURL(b.apiScheme, b.apiHost, b.apiPort, "") {
		return nil, storedError("origin is not a canonical scheme://host:port allowed at its level")
	}
	switch {
	case f[3] == "-" && b.level != tlspolicy.TlsPinnedCertificate:
	case isDigest(f[3]) && b.level == tlspolicy.TlsPinnedCertificate:
		b.pin = f[3]
	default:
		return nil, storedError("pin must be a SHA-256 in lower-case hex at TlsPinnedCertificate and - at any other level")
	}
	if b.tokenScheme, b.tokenHost, b.tokenPort, ok = parseStoredURL(f[4], b.level); !ok {
		return nil, storedError("token endpoint is not a canonical scheme://host:port/path allowed at its level")
	}
	b.tokenPath = f[4][len(joinURL(b.tokenScheme, b.tokenHost, b.tokenPort, "")):]
	if !validVisible(f[5], maxClientField) {
		return nil, storedError("client id is not visible ASCII")
	}
	b.clientID = f[5]
	switch f[6] {
	case authInHeader, authInParams:
		b.authStyle = f[6]
	default:
		return nil, storedError("auth style must be InHeader or InParams")
	}
	if !isDigest(f[7]) {
		return nil, storedError("delivered must be a SHA-256 in lower-case hex")
	}
	s.delivered = f[7]
	if !validVisible(f[8], maxToken) {
		return nil, storedError("refresh token is not visible ASCII")
	}
	s.refresh = f[8]
	if s.marshal() != text {
		return nil, storedError("not in canonical form") // defensive: every field was checked
	}
	return &s, nil
}

// parseStoredURL splits a stored origin or token endpoint and checks that
// it is canonical up to its path: http or https (http only at AllowHttp), a
// host, an explicit port, no user information, query or fragment.
func parseStoredURL(text string, level tlspolicy.Level) (scheme, host, port string, ok bool) {
	scheme, host, port, path := splitURL(text)
	if scheme != "https" && (scheme != "http" || level != tlspolicy.AllowHttp) || host == "" {
		return "", "", "", false
	}
	if text != joinURL(scheme, host, port, path) {
		return "", "", "", false
	}
	return scheme, host, port, true
}

// isDigest reports whether s is a SHA-256 in lower-case hex.
func isDigest(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
