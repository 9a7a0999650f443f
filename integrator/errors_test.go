package integrator

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
)

// TestErrorsAreFaults: the errors of each entry point are built with the
// one error idiom (a *reason.Fault, or a type of the package that embeds
// it), match their category, and hold no secret.
func TestErrorsAreFaults(t *testing.T) {
	f := newSignedFixture(t, sealedbox.Ed25519())
	bad := validRefreshRequest()
	bad.Method = "TRACE"
	noSave := validRefreshRequest()
	_, errNew := New(&noSave, Options{})
	_, errStored := New(ptr(validRefreshRequest()), Options{RefreshToken: "x y", SaveRefreshToken: func(context.Context, string) error { return nil }})
	_, errSeal := (&Statement{IntegrationID: "a", RequestID: "b", Version: 1, Definition: &bad}).Seal(f.appKey.PublicKey(), f.signer)
	_, errOpen := f.verifier.Open(f.appKey, []byte("not an envelope"), "in_7", "rq_42")
	_, errMisuse := (&StatementVerifier{}).Open(f.appKey, nil, "a", "b")
	_, errKeys := ParseKeySet("api.example.test", []byte("{}"))
	_, errFetch := FetchKeySet(t.Context(), "api.example.test", tlspolicy.Policy{SecurityLevel: tlspolicy.AllowHttp})
	_, errHost := FetchKeySet(t.Context(), "https://api.example.test", tlspolicy.Policy{})
	_, errParse := ParseRequest([]byte(`{"method":"GET","url":"https://a.test/","headers":{"X":"` + secretValue + `"}}`))
	for _, tc := range []struct {
		name     string
		err      error
		category error
	}{
		{"parse", errParse, ErrInvalidRequest},
		{"validate", bad.Validate(), ErrInvalidRequest},
		{"no SaveRefreshToken", errNew, ErrPersist},
		{"stored state", errStored, ErrStoredState},
		{"seal", errSeal, ErrInvalidRequest},
		{"open", errOpen, ErrSignedRequest},
		{"open without keys", errMisuse, ErrSignedRequest},
		{"key set", errKeys, ErrKeySet},
		{"fetch at another level", errFetch, ErrKeySet},
		{"fetch from a URL", errHost, ErrKeySet},
		{"binding", bindingError([]string{fieldLevel}), ErrBindingChanged},
		{"token endpoint", tokenError(errors.New("oauth2: cannot parse json: " + secretRefresh)), ErrTokenEndpoint},
	} {
		switch tc.err.(type) {
		case *reason.Fault, *ValidationError, *BindingError:
		default:
			t.Errorf("%s: %T is not of the error idiom", tc.name, tc.err)
		}
		require.ErrorIs(t, tc.err, tc.category, tc.name)
		requireNoSecret(t, tc.err.Error())
	}
}
