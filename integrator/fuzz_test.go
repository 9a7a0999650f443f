package integrator

import (
	"encoding/json"
	"strings"
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

// FuzzParseStored: any stored state is either refused with ErrStoredState
// or reads as a bare refresh token or as the stored form, which written
// again is the same bytes (so no two texts read as the same state).
func FuzzParseStored(f *testing.F) {
	pin := strings.Repeat("ab", 32)
	f.Add("")
	f.Add("rt-1")
	f.Add(storedVersion + " https://api.example.test:443 TlsWithCACheck - https://auth.example.test:443/token device-client InHeader " + pin + " rt-2")
	f.Add(storedVersion + " https://[::1]:8443 TlsPinnedCertificate " + pin + " https://[::1]:8443/o/t%20x c InParams " + pin + " r")
	f.Add(storedVersion + " http://10.0.0.2:80 AllowHttp - http://10.0.0.2:80 c InParams " + pin + " r")
	f.Add(storedVersion + " https://a:443 TlsAllowSelfSigned - https://a:443/t c InHeader " + pin)
	f.Fuzz(func(t *testing.T, text string) {
		st, err := parseStored(text)
		switch {
		case err != nil:
			require.ErrorIs(t, err, ErrStoredState)
			require.Nil(t, st)
		case text == "":
			require.Nil(t, st)
		case st.legacy:
			require.Equal(t, text, st.refresh)
			require.True(t, validVisible(text, maxToken))
		default:
			require.Equal(t, text, st.marshal())
			again, err := parseStored(st.marshal())
			require.NoError(t, err)
			require.Equal(t, st, again)
		}
	})
}

// FuzzStoredFormKeepsBinding: the binding of any valid definition, written
// in the stored form, reads back the same, so a restarted device is never
// refused its own definition nor reads its state as malformed.
func FuzzStoredFormKeepsBinding(f *testing.F) {
	f.Add("https://api.example.test/doors/1", "https://auth.example.test/token")
	f.Add("https://[fe80::1%25eth0]:8443/t", "https://A%25b.example:0443/p;q/%7Eu?x#y")
	f.Add("https://bücher.example/t", "https://[2001:DB8::1]/a%20b/")
	f.Fuzz(func(t *testing.T, api, token string) {
		r := validRefreshRequest()
		r.URL, r.Authorization.TokenURL = api, token
		if r.Validate() != nil {
			return
		}
		st := stored{binding: bindingOf(&r), delivered: tokenDigest("x"), refresh: "y"}
		back, err := parseStored(st.marshal())
		require.NoError(t, err)
		require.Equal(t, st.binding, back.binding)
	})
}
