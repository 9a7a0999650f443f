package tlspolicy

import (
	"fmt"

	"github.com/latchsec/latch/internal/reason"
)

// Level is one of the four transport security levels. Its zero value is
// [TlsWithCACheck], the strictest. In JSON and configuration files a Level is
// written as its name, exactly as the constants are spelled.
type Level int

const (
	// TlsWithCACheck requires TLS with a certificate chain to a trusted root
	// (the system's, or Policy.RootCAs) that names the host. This is the
	// level for any API on the internet.
	TlsWithCACheck Level = iota

	// TlsPinnedCertificate requires TLS with a chain that ends at the pinned
	// certificate, which is then the only trust anchor. Pin a CA or an
	// intermediate and the host name is checked as usual; pin the server's
	// own certificate and that exact certificate identifies the server,
	// whatever address the device reaches it by.
	TlsPinnedCertificate

	// TlsAllowSelfSigned requires TLS but accepts any certificate: the
	// connection is encrypted, yet anyone on the network path can
	// impersonate the server and read or change everything sent. Use it only
	// for a device on a local network that trusts that network.
	TlsAllowSelfSigned

	// AllowHttp is TlsAllowSelfSigned for https:// URLs and also allows plain
	// http://, where anyone on the path reads and changes everything,
	// credentials included.
	AllowHttp
)

var levelNames = [...]string{
	TlsWithCACheck:       "TlsWithCACheck",
	TlsPinnedCertificate: "TlsPinnedCertificate",
	TlsAllowSelfSigned:   "TlsAllowSelfSigned",
	AllowHttp:            "AllowHttp",
}

// String returns the level's name, or "Level(N)" for a value that is not
// one of the four levels.
func (l Level) String() string {
	if l.valid() {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

func (l Level) valid() bool { return l >= 0 && int(l) < len(levelNames) }

// MarshalText returns the level's name. It fails for a value that is not one
// of the four levels.
func (l Level) MarshalText() ([]byte, error) {
	if !l.valid() {
		return nil, reason.Newf(ErrUnknownLevel, nil, fmt.Sprint(int(l)))
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText sets the level from its exact name. Any other text, in any
// other case or with spaces around it, fails with [ErrUnknownLevel].
func (l *Level) UnmarshalText(text []byte) error {
	for i, name := range levelNames {
		if string(text) == name {
			*l = Level(i)
			return nil
		}
	}
	return reason.Newf(ErrUnknownLevel, nil, fmt.Sprintf("%q", truncate(text, 40)))
}

// truncate keeps error messages short when input is large.
func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
