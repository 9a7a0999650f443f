package integrator

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/stretchr/testify/require"
)

// signedFixture is an integrator with a signing key and its published key
// set, and a person's app with its key pair, verifier and version store.
type signedFixture struct {
	signer   *sealedbox.SigningKey
	appKey   *sealedbox.PrivateKey
	keys     *KeySet
	versions *memoryVersions
	clock    *clock
	verifier *StatementVerifier
}

func newSignedFixture(t *testing.T, scheme *sealedbox.SignatureScheme) *signedFixture {
	t.Helper()
	signer, err := scheme.GenerateSigningKey()
	require.NoError(t, err)
	appKey, err := sealedbox.X25519().GenerateKey()
	require.NoError(t, err)
	c := newClock()
	doc, err := MarshalKeySet([]PublishedKey{{signer.VerifyingKey(), c.Now().Add(-time.Hour), c.Now().Add(30 * 24 * time.Hour)}})
	require.NoError(t, err)
	keys, err := ParseKeySet("api.example.test", doc)
	require.NoError(t, err)
	f := &signedFixture{signer: signer, appKey: appKey, keys: keys, versions: &memoryVersions{}, clock: c}
	f.verifier = &StatementVerifier{Keys: keys, Versions: f.versions, Now: c.Now}
	return f
}

func (f *signedFixture) seal(t *testing.T, in, rq string, version uint64, def Request) []byte {
	t.Helper()
	env, err := (&Statement{IntegrationID: in, RequestID: rq, Version: version, Definition: &def}).Seal(f.appKey.PublicKey(), f.signer)
	require.NoError(t, err)
	return env
}

// attackerDefinition is what a cloud with write access to storage would put
// in place of a request: its own token endpoint, plain HTTP.
func attackerDefinition() Request {
	r := validRefreshRequest()
	r.URL = "http://api.example.test/doors/12/open"
	r.SecurityLevel = tlspolicy.AllowHttp
	r.Authorization.TokenURL = "http://attacker.example/token"
	return r
}

func TestSignedStatementRoundTrip(t *testing.T) {
	for _, scheme := range []*sealedbox.SignatureScheme{sealedbox.MLDSA65Ed25519(), sealedbox.Ed25519()} {
		t.Run(scheme.String(), func(t *testing.T) {
			f := newSignedFixture(t, scheme)
			def := validRefreshRequest()
			env := f.seal(t, "in_7", "rq_42", 1, def)
			require.True(t, sealedbox.IsSigned(env))
			s, err := f.verifier.Open(f.appKey, env, "in_7", "rq_42")
			require.NoError(t, err)
			require.Equal(t, "in_7", s.IntegrationID)
			require.Equal(t, "rq_42", s.RequestID)
			require.Equal(t, uint64(1), s.Version)
			require.Equal(t, f.signer.KeyID(), s.Signer)
			require.Equal(t, def, *s.Definition)
			v, _, err := f.versions.LoadVersion("in_7", "rq_42")
			require.NoError(t, err)
			require.Equal(t, uint64(1), v)
			// Opening the same envelope again (the app restarted) works.
			_, err = f.verifier.Open(f.appKey, env, "in_7", "rq_42")
			require.NoError(t, err)
		})
	}
}

// TestSignedStatementCloudSwap is the attack of issue 14 against signed
// requests: the cloud replaces a signed request with a definition of its own
// sealed to the app's public key (public keys are public), unsigned or
// signed with a key of its own. The app refuses both, and saves nothing.
func TestSignedStatementCloudSwap(t *testing.T) {
	f := newSignedFixture(t, sealedbox.MLDSA65Ed25519())
	_, err := f.verifier.Open(f.appKey, f.seal(t, "in_7", "rq_42", 1, validRefreshRequest()), "in_7", "rq_42")
	require.NoError(t, err)

	evil, err := (&Statement{IntegrationID: "in_7", RequestID: "rq_42", Version: 9, Definition: ptr(attackerDefinition())}).marshal()
	require.NoError(t, err)
	ctx := statementContext("in_7", "rq_42")
	unsigned, err := sealedbox.Seal(f.appKey.PublicKey(), evil, ctx)
	require.NoError(t, err)
	_, err = f.verifier.Open(f.appKey, unsigned, "in_7", "rq_42")
	require.ErrorIs(t, err, ErrSignedRequest)
	require.ErrorIs(t, err, sealedbox.ErrUnsigned)

	cloudKey, err := sealedbox.GenerateSigningKey()
	require.NoError(t, err)
	own, err := sealedbox.SealSigned(f.appKey.PublicKey(), cloudKey, evil, ctx)
	require.NoError(t, err)
	_, err = f.verifier.Open(f.appKey, own, "in_7", "rq_42")
	require.ErrorIs(t, err, ErrSignedRequest)
	require.ErrorIs(t, err, sealedbox.ErrUnknownSigner)

	v, _, err := f.versions.LoadVersion("in_7", "rq_42")
	require.NoError(t, err)
	require.Equal(t, uint64(1), v, "a refused statement saves nothing")
}

// TestSignedStatementRollback: the cloud serves an older signed version of a
// request, or another statement under the accepted version number; both are
// refused, across a restart of the app (a new verifier on the same store).
func TestSignedStatementRollback(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	old := f.seal(t, "in_7", "rq_42", 1, validRefreshRequest())
	def2 := validRefreshRequest()
	def2.Body = `{"reason":"v2"}`
	v2 := f.seal(t, "in_7", "rq_42", 2, def2)
	_, err := f.verifier.Open(f.appKey, old, "in_7", "rq_42")
	require.NoError(t, err)
	_, err = f.verifier.Open(f.appKey, v2, "in_7", "rq_42")
	require.NoError(t, err)

	restarted := &StatementVerifier{Keys: f.keys, Versions: f.versions, Now: f.clock.Now}
	_, err = restarted.Open(f.appKey, old, "in_7", "rq_42")
	require.ErrorIs(t, err, ErrSignedRequest)
	require.ErrorIs(t, err, ErrRollback)

	other := validRefreshRequest()
	other.Body = `{"reason":"another v2"}`
	_, err = restarted.Open(f.appKey, f.seal(t, "in_7", "rq_42", 2, other), "in_7", "rq_42")
	require.ErrorIs(t, err, ErrRollback)
	_, err = restarted.Open(f.appKey, v2, "in_7", "rq_42")
	require.NoError(t, err, "the accepted version again")
	_, err = restarted.Open(f.appKey, f.seal(t, "in_7", "rq_42", 7, other), "in_7", "rq_42")
	require.NoError(t, err, "a newer version")
	_, err = restarted.Open(f.appKey, v2, "in_7", "rq_42")
	require.ErrorIs(t, err, ErrRollback)
	// Versions are per request: version 1 of another request is fine.
	_, err = restarted.Open(f.appKey, f.seal(t, "in_7", "rq_43", 1, validRefreshRequest()), "in_7", "rq_43")
	require.NoError(t, err)
}

// TestSignedStatementMoved: an envelope moved by the cloud to another
// request or integration does not open there; a statement that names
// another request than the place it was sealed for is refused (errMoved).
func TestSignedStatementMoved(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	env := f.seal(t, "in_7", "rq_42", 1, validRefreshRequest())
	for _, place := range [][2]string{{"in_7", "rq_43"}, {"in_8", "rq_42"}, {"in_7rq_", "42"}} {
		_, err := f.verifier.Open(f.appKey, env, place[0], place[1])
		require.ErrorIs(t, err, ErrSignedRequest, "%v", place)
		require.ErrorIs(t, err, sealedbox.ErrOpen, "%v", place)
	}
	data, err := (&Statement{IntegrationID: "in_7", RequestID: "rq_43", Version: 5, Definition: ptr(validRefreshRequest())}).marshal()
	require.NoError(t, err)
	misplaced, err := sealedbox.SealSigned(f.appKey.PublicKey(), f.signer, data, statementContext("in_7", "rq_42"))
	require.NoError(t, err)
	_, err = f.verifier.Open(f.appKey, misplaced, "in_7", "rq_42")
	require.ErrorIs(t, err, errMoved)
}

// TestSignedStatementKeyValidity: a key is used only within its validity
// period, by the injected clock.
func TestSignedStatementKeyValidity(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	env := f.seal(t, "in_7", "rq_42", 1, validRefreshRequest())
	f.clock.Advance(31 * 24 * time.Hour)
	_, err := f.verifier.Open(f.appKey, env, "in_7", "rq_42")
	require.ErrorIs(t, err, sealedbox.ErrUnknownSigner, "expired key")
	f.clock.Advance(-31*24*time.Hour - 2*time.Hour)
	_, err = f.verifier.Open(f.appKey, env, "in_7", "rq_42")
	require.ErrorIs(t, err, sealedbox.ErrUnknownSigner, "key not valid yet")
	f.clock.Advance(2 * time.Hour)
	_, err = f.verifier.Open(f.appKey, env, "in_7", "rq_42")
	require.NoError(t, err)
}

type failingVersions struct{ memoryVersions }

func (*failingVersions) SaveVersion(string, string, uint64, [32]byte) error {
	return errors.New("disk full")
}

func TestSignedStatementVersionStoreFails(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	v := &StatementVerifier{Keys: f.keys, Versions: &failingVersions{}, Now: f.clock.Now}
	s, err := v.Open(f.appKey, f.seal(t, "in_7", "rq_42", 1, validRefreshRequest()), "in_7", "rq_42")
	require.Nil(t, s)
	require.ErrorIs(t, err, errVersionStore)
	_, err = (&StatementVerifier{Versions: f.versions}).Open(f.appKey, nil, "a", "b")
	require.Error(t, err)
}

// TestSignedStatementStrict: statements that are not exactly the format,
// even when signed by the integrator's key, are refused with
// ErrInvalidRequest and no value in the message.
func TestSignedStatementStrict(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	good, err := (&Statement{IntegrationID: "in_7", RequestID: "rq_42", Version: 1, Definition: ptr(validRefreshRequest())}).marshal()
	require.NoError(t, err)
	body := strings.TrimSuffix(strings.TrimPrefix(string(good), "{"), "}")
	cases := map[string]string{
		"not json":       "not json",
		"array":          "[" + string(good) + "]",
		"unknown field":  `{"extra":1,` + body + `}`,
		"repeated field": `{"version":1,` + body + `}`,
		"trailing data":  string(good) + "{}",
		"other format":   strings.Replace(string(good), statementFormat, "latch-signed-request/v2", 1),
		"version 0":      strings.Replace(string(good), `"version":1`, `"version":0`, 1),
		"negative":       strings.Replace(string(good), `"version":1`, `"version":-1`, 1),
		"bad definition": strings.Replace(string(good), `"method":"POST"`, `"method":"TRACE"`, 1),
		"no definition":  strings.Replace(string(good), `"definition"`, `"definitio"`, 1),
		"control in id":  strings.Replace(string(good), `"in_7"`, `"in_\u0007"`, 1),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			env, err := sealedbox.SealSigned(f.appKey.PublicKey(), f.signer, []byte(text), statementContext("in_7", "rq_42"))
			require.NoError(t, err)
			_, err = f.verifier.Open(f.appKey, env, "in_7", "rq_42")
			require.ErrorIs(t, err, ErrSignedRequest)
			require.ErrorIs(t, err, ErrInvalidRequest)
			require.NotContains(t, err.Error(), secretRefresh)
			require.NotContains(t, err.Error(), secretClient)
		})
	}
}

func TestStatementSealValidates(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	bad := validRefreshRequest()
	bad.Method = "TRACE"
	for name, s := range map[string]*Statement{
		"nil":           nil,
		"no definition": {IntegrationID: "a", RequestID: "b", Version: 1},
		"version 0":     {IntegrationID: "a", RequestID: "b", Definition: ptr(validRefreshRequest())},
		"empty ids":     {Version: 1, Definition: ptr(validRefreshRequest())},
		"long id":       {IntegrationID: strings.Repeat("a", maxID+1), RequestID: "b", Version: 1, Definition: ptr(validRefreshRequest())},
		"bad method":    {IntegrationID: "a", RequestID: "b", Version: 1, Definition: &bad},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Seal(f.appKey.PublicKey(), f.signer)
			require.ErrorIs(t, err, ErrInvalidRequest)
			require.NotContains(t, err.Error(), secretRefresh)
		})
	}
	var ve *ValidationError
	_, err := (&Statement{IntegrationID: "a", RequestID: "b", Version: 1, Definition: &bad}).Seal(f.appKey.PublicKey(), f.signer)
	require.ErrorAs(t, err, &ve)
	_, ok := ve.Field("definition.method")
	require.True(t, ok, "%v", err)
}

func TestStatementContextUnambiguous(t *testing.T) {
	require.NotEqual(t, statementContext("ab", "c"), statementContext("a", "bc"))
	require.NotEqual(t, statementContext("", "ab"), statementContext("ab", ""))
}

func ptr[T any](v T) *T { return &v }

// apiServerFunc serves h over TLS with cert and returns its URL.
func apiServerFunc(t *testing.T, cert *testpki.Cert, h http.HandlerFunc) string {
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = quietLog
	pair := cert.TLS()
	testpki.Start(t, s, &pair)
	return s.URL
}

// keySetServer serves doc at KeySetPath over TLS with a certificate for
// 127.0.0.1, and returns its host and the roots that trust it.
func keySetServer(t *testing.T, doc *[]byte) (string, *testpki.Cert) {
	t.Helper()
	ca := testpki.New(t, testpki.Options{CA: true}, nil)
	leaf := testpki.New(t, testpki.Options{Hosts: []string{"127.0.0.1"}}, ca)
	s := apiServerFunc(t, leaf, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != KeySetPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(*doc)
	})
	return strings.TrimPrefix(s, "https://"), ca
}

func TestFetchKeySet(t *testing.T) {
	f := newSignedFixture(t, sealedbox.MLDSA65Ed25519())
	doc := f.keys.Document()
	host, ca := keySetServer(t, &doc)
	opts := tlspolicy.Policy{RootCAs: ca.Pool(), Time: testpki.Clock}
	set, err := FetchKeySet(t.Context(), host, opts)
	require.NoError(t, err)
	require.Equal(t, host, set.Host)
	require.Len(t, set.Keys, 1)
	require.True(t, set.Keys[0].Key.Equal(f.signer.VerifyingKey()))
	require.Equal(t, doc, set.Document())
	again, err := ParseKeySet(set.Host, set.Document())
	require.NoError(t, err)
	require.Equal(t, set.Keys, again.Keys)

	// Rotation: the host now serves a set with a new key beside the old.
	next, err := sealedbox.GenerateSigningKey()
	require.NoError(t, err)
	now := testpki.Now
	doc, err = MarshalKeySet([]PublishedKey{
		{f.signer.VerifyingKey(), now.Add(-time.Hour), now.Add(time.Hour)},
		{next.VerifyingKey(), now.Add(-time.Hour), now.Add(365 * 24 * time.Hour)},
	})
	require.NoError(t, err)
	rotated, err := set.Refresh(t.Context(), opts)
	require.NoError(t, err)
	require.Len(t, rotated.Keys, 2)
	require.Equal(t, host, rotated.Host)
	require.Len(t, set.Keys, 1, "the pinned set is unchanged")

	// Without the roots that trust the host: the web PKI check fails.
	_, err = FetchKeySet(t.Context(), host, tlspolicy.Policy{Time: testpki.Clock})
	require.ErrorIs(t, err, ErrKeySet)
	// A host that does not serve a set.
	doc = []byte("not json")
	_, err = FetchKeySet(t.Context(), host, opts)
	require.ErrorIs(t, err, ErrKeySet)
	doc = bytes.Repeat([]byte(" "), maxKeySet+1)
	_, err = FetchKeySet(t.Context(), host, opts)
	require.ErrorIs(t, err, ErrKeySet)
}

func TestFetchKeySetRefusesHosts(t *testing.T) {
	for _, h := range []string{"", "https://api.example.test", "api.example.test/keys", "user@api.example.test",
		"api.example.test:0", "api.example.test:99999", "api.example.test:", "api example", "api.example.test?x", "[::1"} {
		_, err := FetchKeySet(t.Context(), h, tlspolicy.Policy{})
		require.ErrorIs(t, err, ErrKeySet, "%q", h)
	}
}

func TestFetchKeySetNotFound(t *testing.T) {
	ca := testpki.New(t, testpki.Options{CA: true}, nil)
	leaf := testpki.New(t, testpki.Options{Hosts: []string{"127.0.0.1"}}, ca)
	s := apiServerFunc(t, leaf, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	_, err := FetchKeySet(t.Context(), strings.TrimPrefix(s, "https://"), tlspolicy.Policy{RootCAs: ca.Pool(), Time: testpki.Clock})
	require.ErrorIs(t, err, ErrKeySet)
	require.Contains(t, err.Error(), "status 404")
}

// TestParseKeySetRefusals: a key set document is read strictly, and no
// refusal shows key material.
func TestParseKeySetRefusals(t *testing.T) {
	k1, err := sealedbox.Ed25519().GenerateSigningKey()
	require.NoError(t, err)
	now := testpki.Now
	good, err := MarshalKeySet([]PublishedKey{{k1.VerifyingKey(), now, now.Add(time.Hour)}})
	require.NoError(t, err)
	g := string(good)
	signingText, err := k1.MarshalText()
	require.NoError(t, err)
	id := k1.KeyID()
	many := make([]PublishedKey, maxKeySetKeys+1)
	for i := range many {
		k, err := sealedbox.Ed25519().GenerateSigningKey()
		require.NoError(t, err)
		many[i] = PublishedKey{k.VerifyingKey(), now, now.Add(time.Hour)}
	}
	_, err = MarshalKeySet(many)
	require.ErrorIs(t, err, ErrKeySet)
	_, err = MarshalKeySet(nil)
	require.ErrorIs(t, err, ErrKeySet)

	row := g[strings.Index(g, "{\n      ") : strings.LastIndex(g, "}\n  ]")+1]
	cases := map[string]string{
		"empty":          "",
		"not json":       "keys",
		"unknown field":  strings.Replace(g, `"format"`, `"extra": 1, "format"`, 1),
		"repeated field": strings.Replace(g, `"format"`, `"keys": [], "format"`, 1),
		"trailing data":  g + "[]",
		"other format":   strings.Replace(g, keySetFormat, "latch-integrator-keys/v2", 1),
		"no keys":        `{"format":"` + keySetFormat + `","keys":[]}`,
		"kid of another": strings.Replace(g, `"kid": "`, `"kid": "00`, 1),
		"kid upper case": strings.Replace(g, hex.EncodeToString(id[:]), strings.ToUpper(hex.EncodeToString(id[:])), 1),
		"signing key":    strings.Replace(g, k1.VerifyingKey().String(), string(signingText), 1),
		"repeated key":   strings.Replace(g, row, row+",\n"+row, 1),
		"empty period":   strings.Replace(g, now.Add(time.Hour).Format(time.RFC3339), now.Format(time.RFC3339), 1),
		"no notAfter":    strings.Replace(g, `"notAfter"`, `"notafter"`, 1),
		"too large":      g + strings.Repeat(" ", maxKeySet),
		"unknown in key": strings.Replace(g, `"kid"`, `"use": "sig", "kid"`, 1),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKeySet("api.example.test", []byte(doc))
			require.ErrorIs(t, err, ErrKeySet)
			require.NotContains(t, err.Error(), string(signingText[20:40]))
		})
	}
	_, err = ParseKeySet("api.example.test", good)
	require.NoError(t, err)
}

// TestFetchKeySetRefusesRedirectElsewhere: a key set host that redirects to
// another host (where someone else could serve a set) is refused; the set
// comes from the host shown to the person or not at all.
func TestFetchKeySetRefusesRedirectElsewhere(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	doc := f.keys.Document()
	other, ca := keySetServer(t, &doc)
	leaf := testpki.New(t, testpki.Options{Hosts: []string{"127.0.0.1"}}, ca)
	s := apiServerFunc(t, leaf, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+other+KeySetPath, http.StatusFound)
	})
	_, err := FetchKeySet(t.Context(), strings.TrimPrefix(s, "https://"), tlspolicy.Policy{RootCAs: ca.Pool(), Time: testpki.Clock})
	require.ErrorIs(t, err, ErrKeySet)
	require.ErrorContains(t, err, "redirect")
	set, err := FetchKeySet(t.Context(), other, tlspolicy.Policy{RootCAs: ca.Pool(), Time: testpki.Clock})
	require.NoError(t, err, "the set itself is fine")
	require.Equal(t, other, set.Host)
}
