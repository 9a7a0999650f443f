package integrator

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseRequest: any input is either refused with ErrInvalidRequest or
// parses to a request that validates and whose JSON, parsed and
// marshalled again, is the same bytes.
func FuzzParseRequest(f *testing.F) {
	seed, err := json.Marshal(validRefreshRequest())
	require.NoError(f, err)
	f.Add(seed)
	f.Add([]byte(`{"method":"GET","url":"https://a.test/","securityLevel":"TlsWithCACheck","authorization":{"type":"NoAuth"}}`))
	f.Add([]byte(`{"method":"POST","url":"http://10.0.0.2/x","body":"b","securityLevel":"AllowHttp","headers":[{"name":"X-K","value":"v","secret":true}]}`))
	f.Add([]byte(`{"method":"GET","url":"https://a.test/","authorization":{"type":"OAuthAccessToken","accessToken":"abc"}}`))
	f.Add([]byte(`{"method":"GET","url":"https://a.test/","securityLevel":"TlsPinnedCertificate","pinnedCertificate":"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequest(data)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidRequest)
			return
		}
		require.NoError(t, r.Validate())
		again, err := json.Marshal(r)
		require.NoError(t, err)
		r2, err := ParseRequest(again)
		require.NoError(t, err)
		twice, err := json.Marshal(r2)
		require.NoError(t, err)
		require.Equal(t, string(again), string(twice))
	})
}
