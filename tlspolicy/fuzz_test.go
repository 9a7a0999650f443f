package tlspolicy

import (
	"encoding/json"
	"encoding/pem"
	"testing"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/stretchr/testify/require"
)

// FuzzPolicyJSON feeds arbitrary JSON to the policy parser: it never panics,
// and a policy that validates marshals and parses back to the same policy.
func FuzzPolicyJSON(f *testing.F) {
	pin := testpki.New(f, testpki.Options{CA: true}, nil).PEM()
	for _, s := range []string{
		`{"securityLevel":"TlsWithCACheck"}`,
		`{"securityLevel":"TlsAllowSelfSigned"}`,
		`{"securityLevel":"AllowHttp"}`,
		`{"securityLevel":"TlsPinnedCertificate","pinnedCertificate":` + mustJSONf(f, pin) + `}`,
		`{"securityLevel":"TlsPinnedCertificate","pinnedCertificate":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}`,
		`{"securityLevel":1}`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Policy
		if json.Unmarshal(data, &p) != nil {
			return
		}
		if p.Validate() != nil {
			return
		}
		out, err := json.Marshal(p)
		require.NoError(t, err)
		var back Policy
		require.NoError(t, json.Unmarshal(out, &back))
		require.Equal(t, p.SecurityLevel, back.SecurityLevel)
		require.Equal(t, p.PinnedCertificate, back.PinnedCertificate)
		require.NoError(t, back.Validate())
	})
}

func mustJSONf(f *testing.F, v any) string {
	b, err := json.Marshal(v)
	require.NoError(f, err)
	return string(b)
}

// FuzzParsePin feeds arbitrary text as a pinned certificate: it never
// panics, and an accepted pin re-encoded as PEM parses to the same
// certificate.
func FuzzParsePin(f *testing.F) {
	f.Add(testpki.New(f, testpki.Options{CA: true}, nil).PEM())
	f.Add(testpki.New(f, testpki.Options{}, nil).PEM())
	f.Add("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		cert, err := parsePin(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidPin)
			return
		}
		again, err := parsePin(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
		require.NoError(t, err)
		require.Equal(t, cert.Raw, again.Raw)
	})
}

// FuzzLevelText: UnmarshalText accepts exactly the four names.
func FuzzLevelText(f *testing.F) {
	for _, s := range []string{"TlsWithCACheck", "TlsPinnedCertificate", "TlsAllowSelfSigned", "AllowHttp", "allowhttp", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var l Level
		if err := l.UnmarshalText([]byte(s)); err != nil {
			require.ErrorIs(t, err, ErrUnknownLevel)
			return
		}
		require.Equal(t, s, l.String())
	})
}
