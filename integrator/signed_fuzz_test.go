package integrator

import (
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/sealedbox"
	"github.com/stretchr/testify/require"
)

// FuzzParseStatement: any input is refused with ErrInvalidRequest or parses
// to a statement that marshals to a statement parsing to the same.
func FuzzParseStatement(f *testing.F) {
	good, err := (&Statement{IntegrationID: "in_7", RequestID: "rq_42", Version: 3, Definition: ptr(validRefreshRequest())}).marshal()
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte(`{"format":"latch-signed-request/v1","integrationId":"a","requestId":"b","version":1,"definition":{"method":"GET","url":"https://a.test/","securityLevel":"TlsWithCACheck","authorization":{"type":"NoAuth"}}}`))
	f.Add([]byte(`{"format":"latch-signed-request/v1","version":1,"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStatement(data)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidRequest)
			require.Nil(t, s)
			return
		}
		again, err := s.marshal()
		require.NoError(t, err)
		s2, err := parseStatement(again)
		require.NoError(t, err)
		require.Equal(t, s, s2)
	})
}

// FuzzParseKeySet: any input is refused with ErrKeySet or parses to a set
// whose keys marshal to a document that parses to the same keys.
func FuzzParseKeySet(f *testing.F) {
	k, err := sealedbox.Ed25519().GenerateSigningKey()
	require.NoError(f, err)
	doc, err := MarshalKeySet([]PublishedKey{{k.VerifyingKey(), testpki.Now, testpki.Now.Add(time.Hour)}})
	require.NoError(f, err)
	f.Add(doc)
	f.Add([]byte(`{"format":"latch-integrator-keys/v1","keys":[{"kid":"00","key":"latch_vk_ed25519_x","notBefore":"2026-01-01T00:00:00Z","notAfter":"2027-01-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ParseKeySet("api.example.test", data)
		if err != nil {
			require.ErrorIs(t, err, ErrKeySet)
			require.Nil(t, set)
			return
		}
		again, err := MarshalKeySet(set.Keys)
		require.NoError(t, err)
		set2, err := ParseKeySet("api.example.test", again)
		require.NoError(t, err)
		require.Equal(t, len(set.Keys), len(set2.Keys))
		for i := range set.Keys {
			require.True(t, set.Keys[i].Key.Equal(set2.Keys[i].Key))
			require.True(t, set.Keys[i].NotBefore.Equal(set2.Keys[i].NotBefore))
			require.True(t, set.Keys[i].NotAfter.Equal(set2.Keys[i].NotAfter))
		}
	})
}
