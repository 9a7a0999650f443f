package tlspolicy

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/stretchr/testify/require"
)

func TestLevelText(t *testing.T) {
	for _, l := range []Level{TlsWithCACheck, TlsPinnedCertificate, TlsAllowSelfSigned, AllowHttp} {
		text, err := l.MarshalText()
		require.NoError(t, err)
		require.Equal(t, l.String(), string(text))
		var back Level
		require.NoError(t, back.UnmarshalText(text))
		require.Equal(t, l, back)

		j, err := json.Marshal(l)
		require.NoError(t, err)
		require.Equal(t, `"`+l.String()+`"`, string(j))
		var fromJSON Level
		require.NoError(t, json.Unmarshal(j, &fromJSON))
		require.Equal(t, l, fromJSON)
	}
	require.Equal(t, []string{"TlsWithCACheck", "TlsPinnedCertificate", "TlsAllowSelfSigned", "AllowHttp"},
		[]string{TlsWithCACheck.String(), TlsPinnedCertificate.String(), TlsAllowSelfSigned.String(), AllowHttp.String()})
}

func TestLevelUnknownRefused(t *testing.T) {
	for _, name := range []string{"", "tlswithcacheck", "TLSWithCACheck", " AllowHttp", "AllowHttp ", "AllowHTTP", "None", "0", "TlsPinnedCertificate\x00"} {
		var l Level = AllowHttp
		require.ErrorIs(t, l.UnmarshalText([]byte(name)), ErrUnknownLevel, "%q", name)
		require.Equal(t, AllowHttp, l, "a refused name leaves the level as it was")
	}
	for _, j := range []string{`0`, `1`, `null`, `true`, `"Insecure"`, `["AllowHttp"]`} {
		var p Policy
		err := json.Unmarshal([]byte(`{"securityLevel":`+j+`}`), &p)
		if j == `null` {
			// null leaves the zero value: TlsWithCACheck, the strictest.
			require.NoError(t, err)
			require.Equal(t, TlsWithCACheck, p.SecurityLevel)
			continue
		}
		require.Error(t, err, j)
	}
	for _, l := range []Level{-1, 4, 1 << 20} {
		_, err := l.MarshalText()
		require.ErrorIs(t, err, ErrUnknownLevel)
		require.ErrorIs(t, Policy{SecurityLevel: l}.Validate(), ErrUnknownLevel)
		require.Contains(t, l.String(), "Level(")
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	pin := testpki.New(t, testpki.Options{CA: true}, nil).PEM()
	in := Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: pin}
	j, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"securityLevel":"TlsPinnedCertificate","pinnedCertificate":`+mustJSON(t, pin)+`}`, string(j))
	var out Policy
	require.NoError(t, json.Unmarshal(j, &out))
	require.Equal(t, in.SecurityLevel, out.SecurityLevel)
	require.Equal(t, in.PinnedCertificate, out.PinnedCertificate)
	require.NoError(t, out.Validate())

	j, err = json.Marshal(Policy{})
	require.NoError(t, err)
	require.Equal(t, `{"securityLevel":"TlsWithCACheck"}`, string(j))
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestPolicyPinRefused(t *testing.T) {
	cert := testpki.New(t, testpki.Options{CA: true}, nil)
	key, err := x509.MarshalPKCS8PrivateKey(cert.Key)
	require.NoError(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}))
	garbage := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	withHeader := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: cert.Cert.Raw}))

	cases := []struct {
		name  string
		level Level
		pin   string
	}{
		{"missing", TlsPinnedCertificate, ""},
		{"white space only", TlsPinnedCertificate, " \n\t"},
		{"not PEM", TlsPinnedCertificate, "MIIB...not pem"},
		{"DER instead of PEM", TlsPinnedCertificate, string(cert.Cert.Raw)},
		{"two certificates", TlsPinnedCertificate, cert.PEM() + cert.PEM()},
		{"certificate and key", TlsPinnedCertificate, cert.PEM() + keyPEM},
		{"text after the block", TlsPinnedCertificate, cert.PEM() + "trailing"},
		{"a private key", TlsPinnedCertificate, keyPEM},
		{"not a certificate inside", TlsPinnedCertificate, garbage},
		{"PEM headers", TlsPinnedCertificate, withHeader},
		{"oversized", TlsPinnedCertificate, cert.PEM() + strings.Repeat(" ", maxPinPEM)},
		{"pin at TlsWithCACheck", TlsWithCACheck, cert.PEM()},
		{"pin at TlsAllowSelfSigned", TlsAllowSelfSigned, cert.PEM()},
		{"pin at AllowHttp", AllowHttp, cert.PEM()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Policy{SecurityLevel: tc.level, PinnedCertificate: tc.pin}
			require.ErrorIs(t, p.Validate(), ErrInvalidPin)
			_, err := p.TLSConfig("device.local")
			require.ErrorIs(t, err, ErrInvalidPin)
			_, err = p.Transport()
			require.ErrorIs(t, err, ErrInvalidPin)
			_, err = p.Client()
			require.ErrorIs(t, err, ErrInvalidPin)
			require.NotContains(t, err.Error(), "BEGIN", "the error does not echo the pin")
		})
	}

	// The pin may have white space around it, as PEM files do.
	require.NoError(t, Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: "\n" + cert.PEM() + "\n\n"}.Validate())
}

func TestTLSConfigPerLevel(t *testing.T) {
	pin := testpki.New(t, testpki.Options{CA: true}, nil)
	roots := pin.Pool()

	cfg, err := Policy{RootCAs: roots}.TLSConfig("api.example.test")
	require.NoError(t, err)
	require.False(t, cfg.InsecureSkipVerify)
	require.Same(t, roots, cfg.RootCAs)
	require.Equal(t, "api.example.test", cfg.ServerName)
	require.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)

	_, err = Policy{}.TLSConfig("")
	require.Error(t, err, "TlsWithCACheck needs a name to check")

	cfg, err = Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: pin.PEM()}.TLSConfig("api.example.test")
	require.NoError(t, err)
	require.NotNil(t, cfg.VerifyConnection)
	require.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)

	for _, l := range []Level{TlsAllowSelfSigned, AllowHttp} {
		cfg, err = Policy{SecurityLevel: l}.TLSConfig("")
		require.NoError(t, err)
		require.True(t, cfg.InsecureSkipVerify)
		require.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	}
}

func TestGenerateSelfSigned(t *testing.T) {
	notBefore := testpki.Now.Add(-time.Hour)
	notAfter := testpki.Now.Add(10 * 365 * 24 * time.Hour)
	certPEM, keyPEM, err := GenerateSelfSigned([]string{"Device.Local", "192.168.1.20", "::1", "*.device.local"}, notBefore, notAfter)
	require.NoError(t, err)

	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	require.Equal(t, []string{"device.local", "*.device.local"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 2)
	require.Equal(t, x509.ECDSA, cert.PublicKeyAlgorithm)
	require.False(t, cert.IsCA)
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, cert.ExtKeyUsage)
	require.True(t, cert.NotBefore.Equal(notBefore))
	require.True(t, cert.NotAfter.Equal(notAfter))
	require.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature), "self-signed")

	// A device pins it and reaches the server by an address.
	srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{pair}})
	cfg, err := Policy{SecurityLevel: TlsPinnedCertificate, PinnedCertificate: string(certPEM), Time: testpki.Clock}.TLSConfig("127.0.0.1")
	require.NoError(t, err)
	_, err = dial(srv.addr, cfg)
	require.NoError(t, err)

	// Two calls make two different keys.
	cert2PEM, key2PEM, err := GenerateSelfSigned([]string{"device.local"}, notBefore, notAfter)
	require.NoError(t, err)
	require.NotEqual(t, keyPEM, key2PEM)
	require.NotEqual(t, certPEM, cert2PEM)
}

func TestGenerateSelfSignedRefused(t *testing.T) {
	notBefore, notAfter := testpki.Now, testpki.Now.Add(time.Hour)
	for _, hosts := range [][]string{nil, {}, {""}, {"bad host"}, {"-lead.example"}, {"a..b"}, {"ex_ample.test"}, {"fe80::1%eth0"}, {strings.Repeat("a", 64) + ".test"}, {"ok.test", "x/y"}} {
		_, _, err := GenerateSelfSigned(hosts, notBefore, notAfter)
		require.ErrorIs(t, err, ErrInvalidHost, "%q", hosts)
	}
	_, _, err := GenerateSelfSigned([]string{"device.local"}, notAfter, notBefore)
	require.ErrorIs(t, err, ErrInvalidPeriod)
	_, _, err = GenerateSelfSigned([]string{"device.local"}, notBefore, notBefore)
	require.ErrorIs(t, err, ErrInvalidPeriod)
}
