package tlspolicy

import (
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/internal/testpki"
)

// TestErrorsAreFaults: the errors this package builds are of the one error
// idiom (a *reason.Fault) and match their category.
func TestErrorsAreFaults(t *testing.T) {
	var l Level
	_, errName := Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: "x"}.TLSConfig("a.test")
	_, errCA := Policy{}.TLSConfig("")
	_, _, errHost := GenerateSelfSigned(nil, testpki.Now, testpki.Now.Add(time.Hour))
	_, _, errPeriod := GenerateSelfSigned([]string{"a.test"}, testpki.Now, testpki.Now)
	from, _ := url.Parse("https://a.test/")
	to, _ := url.Parse("https://b.test/")
	errRedirect := checkRedirect(&http.Request{URL: to}, []*http.Request{{URL: from}})
	for _, tc := range []struct {
		err      error
		category error
	}{
		{l.UnmarshalText([]byte("tlswithcacheck")), ErrUnknownLevel},
		{Policy{SecurityLevel: 7}.Validate(), ErrUnknownLevel},
		{errName, ErrInvalidPin},
		{errCA, ErrInvalidHost},
		{Policy{}.VerifyChain(nil, "a.test"), ErrNoCertificate},
		{Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: newPKI(t).inter.PEM()}.VerifyChain([]*x509.Certificate{}, "a.test"), ErrPinMismatch},
		{errHost, ErrInvalidHost},
		{errPeriod, ErrInvalidPeriod},
		{errRedirect, ErrRedirectRefused},
	} {
		var fault *reason.Fault
		require.True(t, errors.As(tc.err, &fault), "%T %v", tc.err, tc.err)
		require.ErrorIs(t, tc.err, tc.category)
	}
}
