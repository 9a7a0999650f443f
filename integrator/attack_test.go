package integrator

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
)

// TestAttackBindingSpellings tries, as a cloud that rewrites the stored
// definition, spellings of the token endpoint that a careless comparison
// could take for the stored one while the device would dial another
// server. Each spelling either has another binding (the stored chain is
// refused to it) or does not validate at all; none reaches a new server
// with the stored token. The one that got through before: "straẞe" and
// "straße" lower-case alike, but the HTTP client dials the first as
// "strasse" and the second as "xn--strae-oqa".
func TestAttackBindingSpellings(t *testing.T) {
	base := validRefreshRequest()
	base.Authorization.TokenURL = "https://auth.example.test/token"
	stored := bindingOf(&base)
	for _, tokenURL := range []string{
		"https://auth.example.test./token",               // trailing dot
		"https://auth.example.test:8443/token",           // other port
		"https://auth.example.test/other/../token",       // dot segments
		"https://auth.example.test/%74oken",              // escaped path
		"https://auth.example.test//token",               // doubled slash
		"https://xn--uth-0na.example.test/token",         // punycode look-alike
		"https://auth.example.test%2eevil.example/token", // escaped dot in host
		"https://[::ffff:127.0.0.1]/token",               // IPv6 spelling of another host
		"https://user@auth.example.test/token",           // user info
		"https://straẞe.example/token",                   // non-ASCII
		"https://auth.example.test\\@evil.example/token", // backslash
	} {
		r := base
		r.Authorization.TokenURL = tokenURL
		if err := r.Validate(); err != nil {
			continue
		}
		b := bindingOf(&r)
		require.NotEmpty(t, stored.changed(&b), "%s has the stored binding", tokenURL)
	}
	// Spellings of the same server keep the binding: a default port written
	// out, upper case.
	for _, tokenURL := range []string{"https://auth.example.test:443/token", "HTTPS://AUTH.Example.Test/token"} {
		r := base
		r.Authorization.TokenURL = tokenURL
		require.NoError(t, r.Validate())
		b := bindingOf(&r)
		require.Empty(t, stored.changed(&b), tokenURL)
	}

	// Why non-ASCII names are refused: these two have one binding, and the
	// HTTP client dials two different servers for them.
	legit, evil := base, base
	legit.Authorization.TokenURL = "https://straße.example/token"
	evil.Authorization.TokenURL = "https://straẞe.example/token"
	lb, eb := bindingOf(&legit), bindingOf(&evil)
	require.Empty(t, lb.changed(&eb))
	require.NotEqual(t, dialedAddr(t, legit.Authorization.TokenURL), dialedAddr(t, evil.Authorization.TokenURL))
	require.ErrorIs(t, legit.Validate(), ErrInvalidRequest)
	require.ErrorIs(t, evil.Validate(), ErrInvalidRequest)
}

// dialedAddr returns the address an http.Transport dials for a request to
// raw, without dialing it.
func dialedAddr(t *testing.T, raw string) string {
	t.Helper()
	var addr string
	tr := &http.Transport{DialContext: func(_ context.Context, _, a string) (net.Conn, error) {
		addr = a
		return nil, net.ErrClosed
	}}
	req, err := http.NewRequest(http.MethodPost, raw, nil)
	require.NoError(t, err)
	_, _ = tr.RoundTrip(req)
	require.NotEmpty(t, addr)
	return addr
}

// TestAttackOtherIntegratorSigns: a malicious integrator of another
// integration (its own key set, pinned for its own integration) signs a
// statement for this integration and request and seals it to this
// integration's public key, which it may well know. This integration's
// verifier, with this integrator's key set, refuses it; so does a verifier
// that holds both sets if the statement names the other place.
func TestAttackOtherIntegratorSigns(t *testing.T) {
	a := newSignedFixture(t, sealedbox.Ed25519())
	b := newSignedFixture(t, sealedbox.Ed25519())
	// B signs for A's integration, sealed to A's app key.
	data, err := (&Statement{IntegrationID: "in_a", RequestID: "rq_1", Version: 50, Definition: ptr(attackerDefinition())}).marshal()
	require.NoError(t, err)
	env, err := sealedbox.SealSigned(a.appKey.PublicKey(), b.signer, data, statementContext("in_a", "rq_1"))
	require.NoError(t, err)
	_, err = a.verifier.Open(a.appKey, env, "in_a", "rq_1")
	require.ErrorIs(t, err, ErrSignedRequest)
	require.ErrorIs(t, err, sealedbox.ErrUnknownSigner)

	// B's own, valid statement for its integration, moved by the cloud to
	// A's integration.
	own := b.seal(t, "in_b", "rq_1", 1, validRefreshRequest())
	_, err = a.verifier.Open(b.appKey, own, "in_a", "rq_1")
	require.ErrorIs(t, err, sealedbox.ErrOpen)
	v, _, err := a.versions.LoadVersion("in_a", "rq_1")
	require.NoError(t, err)
	require.Zero(t, v, "nothing refused is saved")
}

// TestAttackRotatedKeySet: after the app pins a rotated key set from the
// same host that no longer holds the old key, statements signed with the
// old key are refused, and the versions accepted under the old set still
// hold under the new one.
func TestAttackRotatedKeySet(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	oldV2 := f.seal(t, "in_7", "rq_42", 2, validRefreshRequest())
	_, err := f.verifier.Open(f.appKey, oldV2, "in_7", "rq_42")
	require.NoError(t, err)

	next, err := sealedbox.Ed25519().GenerateSigningKey()
	require.NoError(t, err)
	doc, err := MarshalKeySet([]PublishedKey{{next.VerifyingKey(), f.clock.Now().Add(-time.Hour), f.clock.Now().Add(30 * 24 * time.Hour)}})
	require.NoError(t, err)
	rotated, err := ParseKeySet(f.keys.Host, doc)
	require.NoError(t, err)
	v := &StatementVerifier{Keys: rotated, Versions: f.versions, Now: f.clock.Now}

	_, err = v.Open(f.appKey, f.seal(t, "in_7", "rq_42", 3, validRefreshRequest()), "in_7", "rq_42")
	require.ErrorIs(t, err, sealedbox.ErrUnknownSigner, "the retired key signs nothing any more")
	f.signer = next
	_, err = v.Open(f.appKey, f.seal(t, "in_7", "rq_42", 1, validRefreshRequest()), "in_7", "rq_42")
	require.ErrorIs(t, err, ErrRollback, "versions survive the rotation")
	_, err = v.Open(f.appKey, f.seal(t, "in_7", "rq_42", 3, validRefreshRequest()), "in_7", "rq_42")
	require.NoError(t, err)
}

// TestAttackKeySetHostSpelling: the host the person reads is the host the
// key set comes from. A non-ASCII name (a look-alike Cyrillic "а", or a
// name that the client would fold into another) is refused before any
// fetch; its xn-- form is what the person must be shown.
func TestAttackKeySetHostSpelling(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	doc := f.keys.Document()
	for _, h := range []string{"p\u0430ypal.example", "straße.example", "straẞe.example", "xn--strae-oqa.example\u00a0"} {
		_, err := ParseKeySet(h, doc)
		require.ErrorIs(t, err, ErrKeySet, "%q", h)
	}
	_, err := ParseKeySet("xn--strae-oqa.example", doc)
	require.NoError(t, err)
}

// TestAttackVersionsSharedByTwoVerifiers: two verifiers on one store (the
// app pinned a rotated key set while a request was being opened) cannot
// lower the saved version: a save of a version not higher than the one
// held fails, and the verifier refuses with errVersionStore.
func TestAttackVersionsSharedByTwoVerifiers(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	require.NoError(t, f.versions.SaveVersion("in_7", "rq_42", 3, [32]byte{}))
	require.Error(t, f.versions.SaveVersion("in_7", "rq_42", 2, [32]byte{}), "a slower verifier that loaded version 1")
	require.Error(t, f.versions.SaveVersion("in_7", "rq_42", 3, [32]byte{1}))
	got, digest, err := f.versions.LoadVersion("in_7", "rq_42")
	require.NoError(t, err)
	require.Equal(t, uint64(3), got)
	require.Equal(t, [32]byte{}, digest)

	// The verifier's view of a store that holds a higher version than it
	// loaded: the save fails, and nothing is accepted.
	stale := &staleVersions{memoryVersions: f.versions}
	v := &StatementVerifier{Keys: f.keys, Versions: stale, Now: f.clock.Now}
	_, err = v.Open(f.appKey, f.seal(t, "in_7", "rq_42", 2, validRefreshRequest()), "in_7", "rq_42")
	require.ErrorIs(t, err, errVersionStore)
}

// staleVersions loads nothing, as a verifier that loaded before another
// verifier saved, and saves to the shared store.
type staleVersions struct{ *memoryVersions }

func (*staleVersions) LoadVersion(string, string) (uint64, [32]byte, error) {
	return 0, [32]byte{}, nil
}

// TestAttackStatementEdgeCases: statements that a lenient JSON reader
// would take, refused by parseStatement: nulls for required members, a
// version that overflows or is not an integer, a differently cased or
// repeated member (encoding/json would match "Version" to version and keep
// the last of two), and a byte order mark. A member name written with an
// escape is the same name and is accepted.
func TestAttackStatementEdgeCases(t *testing.T) {
	good, err := (&Statement{IntegrationID: "in_7", RequestID: "rq_42", Version: 1, Definition: ptr(validRefreshRequest())}).marshal()
	require.NoError(t, err)
	g := string(good)
	for name, text := range map[string]string{
		"null format":      strings.Replace(g, `"format":"`+statementFormat+`"`, `"format":null`, 1),
		"null id":          strings.Replace(g, `"integrationId":"in_7"`, `"integrationId":null`, 1),
		"null version":     strings.Replace(g, `"version":1`, `"version":null`, 1),
		"null definition":  g[:strings.Index(g, `"definition":`)] + `"definition":null}`,
		"version overflow": strings.Replace(g, `"version":1`, `"version":18446744073709551616`, 1),
		"version float":    strings.Replace(g, `"version":1`, `"version":1.0`, 1),
		"version exponent": strings.Replace(g, `"version":1`, `"version":1e0`, 1),
		"version string":   strings.Replace(g, `"version":1`, `"version":"1"`, 1),
		"cased member":     strings.Replace(g, `"version":1`, `"Version":1`, 1),
		"repeated version": strings.Replace(g, `"version":1`, `"version":1,"version":9`, 1),
		"byte order mark":  "\ufeff" + g,
		"empty":            "",
	} {
		_, err := parseStatement([]byte(text))
		require.ErrorIs(t, err, ErrInvalidRequest, name)
	}
	s, err := parseStatement([]byte(strings.Replace(g, `"version":1`, `"\u0076ersion":1`, 1)))
	require.NoError(t, err)
	require.EqualValues(t, 1, s.Version)
}

// TestAttackKeySetRedirectSameHost: a key set URL that redirects to another
// path of the same host (an open redirect, or a place where others can put
// files) is refused: the set must be served at KeySetPath itself.
func TestAttackKeySetRedirectSameHost(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	doc := f.keys.Document()
	ca := testpki.New(t, testpki.Options{CA: true}, nil)
	leaf := testpki.New(t, testpki.Options{Hosts: []string{"127.0.0.1"}}, ca)
	s := apiServerFunc(t, leaf, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == KeySetPath {
			http.Redirect(w, r, "/uploads/someone-elses.json", http.StatusFound)
			return
		}
		w.Write(doc)
	})
	_, err := FetchKeySet(t.Context(), strings.TrimPrefix(s, "https://"), tlspolicy.Policy{RootCAs: ca.Pool(), Time: testpki.Clock})
	require.ErrorIs(t, err, ErrKeySet)
	require.ErrorContains(t, err, "redirect")
}
