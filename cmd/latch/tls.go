package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchsec/latch/tlspolicy"
)

func init() {
	commands = append(commands, tlsPinCommand, tlsCheckCommand)
}

var tlsPinCommand = &command{
	name:    "tls pin",
	args:    "https://host[:port]",
	summary: "show the chain a server sends and which certificate to pin, with a ready policy",
	detail: `Connects without trusting the server, prints every certificate it sends
(subject, issuer, validity, names, SHA-256 fingerprints), tries each one as
the pin of a TlsPinnedCertificate policy, and says which to pin and why:
the server's own certificate for a device on a local network (it then
identifies the server whatever address the device uses, and breaks when the
server gets a new certificate), or the intermediate that issued it for a
public API that renews its certificate often (it breaks when that
intermediate expires or the CA issues from another one). Ends with the
policy as JSON, ready for a request definition.

Take the output to the integrator and compare the fingerprint through a
channel you trust: whoever sits between you and the server now would be
pinned otherwise.

Exit code 1 if no certificate of the chain can be pinned for this host
(an expired server certificate, for example).`,
	example: `latch tls pin https://api.example.com
latch tls pin --pin leaf --out policy.json https://192.168.1.20:8443
latch tls pin --json https://api.example.com | jq .policy`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		jsonOut := fs.Bool("json", false, "print the chain, the judgements and the policy as one JSON object")
		which := fs.String("pin", "", "pin `WHICH` certificate: leaf, issuer, or its number in the chain (default: the recommended one)")
		roots := fs.String("roots", "", "judge TlsWithCACheck with the CA certificates of PEM `FILE` instead of the system's")
		out := fs.String("out", "", "also write the policy to the new `FILE`, for latch tls check --policy")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 1, 1); err != nil {
				return err
			}
			return tlsPin(e, args[0], pinOptions{which: *which, rootsFile: *roots, out: *out, jsonOut: *jsonOut, clock: clock})
		}
	},
}

var tlsCheckCommand = &command{
	name:    "tls check",
	args:    "--policy policy.json URL",
	summary: "try a transport policy against a URL and explain a failure in plain words",
	detail: `Reads a policy ({"securityLevel": ..., "pinnedCertificate": ...}), makes
a GET request to the URL with the client that tlspolicy builds from it, and
says whether the policy accepts the server. A refusal is explained: an
expired certificate (which one, and since when), a host name the
certificate does not name, a chain that does not lead to the pin or to a
trusted root, plain http below AllowHttp, a server that does not speak TLS.

Exit code 1 when the policy refuses the server or the request fails.`,
	example: `latch tls check --policy policy.json https://api.example.com/v1/status`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		policyFile := fs.String("policy", "", "the policy, a JSON `FILE` (required)")
		jsonOut := fs.Bool("json", false, "print the result as JSON")
		roots := fs.String("roots", "", "at TlsWithCACheck, trust the CA certificates of PEM `FILE` instead of the system's")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 1, 1); err != nil {
				return err
			}
			if *policyFile == "" {
				return usagef("--policy is required")
			}
			return tlsCheck(e, *policyFile, args[0], *roots, *jsonOut, clock)
		}
	},
}

// certInfo is what tls pin shows of one certificate.
type certInfo struct {
	Index        int       `json:"index"`
	Role         string    `json:"role"`
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	DNSNames     []string  `json:"dnsNames,omitempty"`
	IPAddresses  []string  `json:"ipAddresses,omitempty"`
	IsCA         bool      `json:"isCA"`
	SelfSigned   bool      `json:"selfSigned"`
	SHA256       string    `json:"sha256"`
	SPKISHA256   string    `json:"spkiSha256"`
	PinWorks     bool      `json:"pinWorks"`
	PinProblem   string    `json:"pinProblem,omitempty"`
	PinBreaksAt  time.Time `json:"pinBreaksAt,omitzero"`
	PinBreaksWhy string    `json:"pinBreaksWhy,omitempty"`
	PEM          string    `json:"pem"`
}

type pinReport struct {
	URL            string            `json:"url"`
	Address        string            `json:"address"`
	TLSVersion     string            `json:"tlsVersion"`
	CheckedAt      time.Time         `json:"checkedAt"`
	Chain          []*certInfo       `json:"chain"`
	CACheckWorks   bool              `json:"caCheckWorks"`
	CACheckProblem string            `json:"caCheckProblem,omitempty"`
	Pinned         int               `json:"pinned"` // index in Chain, -1 for none
	Policy         *tlspolicy.Policy `json:"policy,omitempty"`
}

// target parses a URL given to tls pin or tls check into host and port.
func target(raw string, requireHTTPS bool) (*url.URL, string, string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, "", "", usagef("%q is not a URL such as https://host[:port]", raw)
	}
	if requireHTTPS && u.Scheme != "https" {
		return nil, "", "", usagef("%q is not an https:// URL", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return u, host, port, nil
}

// fetchChain connects without trusting the server (a TlsAllowSelfSigned
// configuration) and returns the certificates it sent.
func fetchChain(host, port string) ([]*x509.Certificate, *tls.ConnectionState, error) {
	cfg, err := tlspolicy.Policy{SecurityLevel: tlspolicy.TlsAllowSelfSigned}.TLSConfig(host)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, nil, errors.New(explain(err, host, time.Time{}))
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return nil, nil, errors.New("the server sent no certificate")
	}
	return cs.PeerCertificates, &cs, nil
}

func readRoots(name string, e *env) (*x509.CertPool, error) {
	if name == "" {
		return nil, nil
	}
	b, err := e.readInput(name, "the roots file")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", name)
	}
	return pool, nil
}

// pinOptions are tls pin's flags.
type pinOptions struct {
	which     string // --pin: "", "leaf", "issuer" or an index in the chain
	rootsFile string // --roots
	out       string // --out: the file to write the policy to
	jsonOut   bool   // --json
	clock     *clock // --now
}

// tlsPin fetches raw's chain, judges each certificate as a pin, chooses
// one and prints the report (and writes the policy with --out). It fails
// when no certificate can be pinned, after printing why.
func tlsPin(e *env, raw string, o pinOptions) error {
	u, host, port, err := target(raw, true)
	if err != nil {
		return err
	}
	t, err := o.clock.now()
	if err != nil {
		return err
	}
	roots, err := readRoots(o.rootsFile, e)
	if err != nil {
		return err
	}
	chain, cs, err := fetchChain(host, port)
	if err != nil {
		return err
	}
	rep := judgeChain(chain, host, roots, t)
	rep.URL, rep.Address, rep.TLSVersion = u.String(), net.JoinHostPort(host, port), tls.VersionName(cs.Version)
	issuer := issuerIndex(chain)
	fail, err := choosePin(rep, o.which, issuer, host)
	if err != nil {
		return err
	}
	if rep.Pinned >= 0 {
		p := pinPolicy(chain[rep.Pinned], t)
		rep.Policy = &p
		if o.out != "" {
			if err := writePolicy(o.out, rep.Policy); err != nil {
				return err
			}
		}
	}
	if o.jsonOut {
		if err := e.printJSON(rep); err != nil {
			return err
		}
	} else {
		printPinReport(e.stdout, rep, host, issuer)
	}
	return fail
}

// judgeChain judges chain, sent by host, at time t: under the CA check
// (with roots, or the system's if nil), and with each certificate as the
// pin. The report's Pinned is -1.
func judgeChain(chain []*x509.Certificate, host string, roots *x509.CertPool, t time.Time) *pinReport {
	rep := &pinReport{CheckedAt: t.UTC(), Pinned: -1}
	ca := tlspolicy.Policy{SecurityLevel: tlspolicy.TlsWithCACheck, RootCAs: roots, Time: func() time.Time { return t }}
	if err := ca.VerifyChain(chain, host); err != nil {
		rep.CACheckProblem = explain(err, host, t)
	} else {
		rep.CACheckWorks = true
	}
	for i, c := range chain {
		info := describe(i, c, chain)
		p := pinPolicy(c, t)
		if err := p.VerifyChain(chain, host); err != nil {
			info.PinProblem = explain(err, host, t)
		} else {
			info.PinWorks = true
			info.PinBreaksAt, info.PinBreaksWhy = pinBreaks(i, chain)
		}
		rep.Chain = append(rep.Chain, info)
	}
	return rep
}

// issuerIndex returns 1 if chain[1] issued the server's certificate, or -1.
func issuerIndex(chain []*x509.Certificate) int {
	if len(chain) > 1 && chain[0].CheckSignatureFrom(chain[1]) == nil {
		return 1
	}
	return -1
}

// choosePin sets rep.Pinned to the certificate to pin: the one which asks
// for, or by default the issuing intermediate when it works for this host,
// or else the leaf. It returns an error (err) when which cannot be
// followed, and, when the chosen certificate does not work as a pin or none
// does, sets rep.Pinned to -1 and returns the reason as fail, for after the
// report.
func choosePin(rep *pinReport, which string, issuer int, host string) (fail, err error) {
	switch which {
	case "":
		switch {
		case issuer > 0 && rep.Chain[issuer].PinWorks:
			rep.Pinned = issuer
		case rep.Chain[0].PinWorks:
			rep.Pinned = 0
		}
	case "leaf":
		rep.Pinned = 0
	case "issuer":
		if issuer < 0 {
			return nil, fmt.Errorf("the server did not send the certificate that issued its own (it is self-signed, or sends no intermediate); pin the leaf")
		}
		rep.Pinned = issuer
	default:
		var n int
		if _, err := fmt.Sscan(which, &n); err != nil || n < 0 || n >= len(rep.Chain) || fmt.Sprint(n) != which {
			return nil, usagef("--pin %q: want leaf, issuer or a number from 0 to %d", which, len(rep.Chain)-1)
		}
		rep.Pinned = n
	}
	if rep.Pinned >= 0 && !rep.Chain[rep.Pinned].PinWorks {
		fail = fmt.Errorf("pinning certificate [%d] would not work for %s: %s", rep.Pinned, host, rep.Chain[rep.Pinned].PinProblem)
		rep.Pinned = -1
	}
	if rep.Pinned < 0 && fail == nil {
		fail = fmt.Errorf("no certificate the server sent can be pinned for %s: %s", host, rep.Chain[0].PinProblem)
	}
	return fail, nil
}

// writePolicy writes p as JSON to the new file name.
func writePolicy(name string, p *tlspolicy.Policy) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return writeNewFile(name, append(b, '\n'), 0o644)
}

func pinPolicy(c *x509.Certificate, t time.Time) tlspolicy.Policy {
	return tlspolicy.Policy{
		SecurityLevel:     tlspolicy.TlsPinnedCertificate,
		PinnedCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
		Time:              func() time.Time { return t },
	}
}

// pinBreaks says when a working pin on chain[i] stops working by itself.
// A pin on the server's own certificate ends when the server gets a new
// one. A pin on a signer ends when the signer expires; the certificates
// below it may be renewed meanwhile, as long as they are issued under it.
func pinBreaks(i int, chain []*x509.Certificate) (time.Time, string) {
	if i == 0 {
		return chain[0].NotAfter, "when the server's certificate expires, or sooner as soon as the server gets a new certificate"
	}
	why := "when the pinned certificate expires; the server's certificate (which expires " + day(chain[0].NotAfter) + ") may be renewed meanwhile, "
	if i == 1 {
		why += "but only by this intermediate: it breaks sooner if the CA issues from another one"
	} else {
		why += "and the intermediates below the pin too, as long as they are issued under it"
	}
	return chain[i].NotAfter, why
}

func describe(i int, c *x509.Certificate, chain []*x509.Certificate) *certInfo {
	info := &certInfo{
		Index:      i,
		Subject:    c.Subject.String(),
		Issuer:     c.Issuer.String(),
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		DNSNames:   c.DNSNames,
		IsCA:       c.BasicConstraintsValid && c.IsCA,
		SelfSigned: bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil,
		SHA256:     fingerprint(c.Raw),
		PEM:        string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
	}
	spki := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	info.SPKISHA256 = base64.StdEncoding.EncodeToString(spki[:])
	for _, ip := range c.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	switch {
	case i == 0:
		info.Role = "the server's certificate"
	case i == 1 && chain[0].CheckSignatureFrom(c) == nil:
		info.Role = "the intermediate that issued it"
	case info.SelfSigned:
		info.Role = "a root"
	default:
		info.Role = "a certificate further up"
	}
	return info
}

// fingerprint is SHA-256 in the colon-separated upper-case hexadecimal of
// openssl x509 -fingerprint.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// until describes how far t is from now.
func until(t, now time.Time) string {
	if d := t.Sub(now); d >= 0 {
		return "expires in " + span(d)
	}
	return "expired " + span(now.Sub(t)) + " ago"
}

func printPinReport(w io.Writer, r *pinReport, host string, issuer int) {
	fmt.Fprintf(w, "%s sent %d certificate(s) over %s (checked at %s):\n", r.Address, len(r.Chain), r.TLSVersion, stamp(r.CheckedAt))
	for _, c := range r.Chain {
		fmt.Fprintf(w, "\n[%d] %s, %s\n", c.Index, c.Subject, c.Role)
		fmt.Fprintf(w, "    issuer:      %s\n", c.Issuer)
		fmt.Fprintf(w, "    valid:       %s to %s (%s)\n", stamp(c.NotBefore), stamp(c.NotAfter), until(c.NotAfter, r.CheckedAt))
		names := append(append([]string(nil), c.DNSNames...), c.IPAddresses...)
		if len(names) > 0 {
			fmt.Fprintf(w, "    names:       %s\n", strings.Join(names, ", "))
		}
		kind := "not a CA"
		if c.IsCA {
			kind = "CA"
		}
		if c.SelfSigned {
			kind += ", self-signed"
		}
		fmt.Fprintf(w, "    kind:        %s\n", kind)
		fmt.Fprintf(w, "    sha256:      %s\n", c.SHA256)
		fmt.Fprintf(w, "    spki sha256: %s\n", c.SPKISHA256)
		if c.PinWorks {
			fmt.Fprintf(w, "    as the pin:  works for %s; breaks on %s, %s\n", host, day(c.PinBreaksAt), c.PinBreaksWhy)
		} else {
			fmt.Fprintf(w, "    as the pin:  does not work for %s: %s\n", host, c.PinProblem)
		}
	}

	fmt.Fprintf(w, "\nBy level:\n")
	if r.CACheckWorks {
		fmt.Fprintf(w, "  TlsWithCACheck        works: the chain leads to a trusted root and names %s.\n", host)
	} else {
		fmt.Fprintf(w, "  TlsWithCACheck        does not work: %s\n", r.CACheckProblem)
	}
	leaf := r.Chain[0]
	anyPin := false
	for _, c := range r.Chain {
		anyPin = anyPin || c.PinWorks
	}
	if !anyPin {
		fmt.Fprintf(w, "  TlsPinnedCertificate  no certificate the server sent works as the pin now: %s\n", leaf.PinProblem)
	}
	if leaf.PinWorks {
		fmt.Fprintf(w, "  TlsPinnedCertificate  for a device on a local network, pin [0], the server's own certificate:\n")
		fmt.Fprintf(w, "                        it identifies the server by whatever address the device uses;\n")
		fmt.Fprintf(w, "                        it breaks when the server gets a new certificate (at the latest %s).\n", day(leaf.NotAfter))
	}
	if issuer > 0 && r.Chain[issuer].PinWorks {
		c := r.Chain[issuer]
		fmt.Fprintf(w, "  TlsPinnedCertificate  for a public API that renews its certificate, pin [%d], the issuing intermediate:\n", issuer)
		fmt.Fprintf(w, "                        renewals from it keep working and the host name is checked;\n")
		fmt.Fprintf(w, "                        it breaks on %s, or sooner if the CA switches intermediates.\n", day(c.PinBreaksAt))
	}
	fmt.Fprintf(w, "  TlsAllowSelfSigned    works with any certificate, and so with anyone who intercepts the connection.\n")
	if r.CACheckWorks {
		fmt.Fprintf(w, "\nRecommendation: TlsWithCACheck needs no pin and survives every renewal; pin only to exclude other CAs.\n")
	}
	if r.Policy == nil {
		return
	}
	b, _ := json.Marshal(r.Policy)
	fmt.Fprintf(w, "\nPolicy pinning [%d] (%s):\n%s\n", r.Pinned, r.Chain[r.Pinned].Role, b)
}

type checkReport struct {
	URL           string `json:"url"`
	SecurityLevel string `json:"securityLevel"`
	OK            bool   `json:"ok"`
	Status        string `json:"status,omitempty"`
	Problem       string `json:"problem,omitempty"`
}

func tlsCheck(e *env, policyFile, raw, rootsFile string, jsonOut bool, clock *clock) error {
	u, host, _, err := target(raw, false)
	if err != nil {
		return err
	}
	t, err := clock.now()
	if err != nil {
		return err
	}
	b, err := e.readInput(policyFile, "the policy")
	if err != nil {
		return err
	}
	var p tlspolicy.Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("%s is not a policy: %v", policyFile, err)
	}
	if p.RootCAs, err = readRoots(rootsFile, e); err != nil {
		return err
	}
	p.Time = func() time.Time { return t }
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%s: %v", policyFile, err)
	}
	client, err := p.Client()
	if err != nil {
		return err
	}
	client.Timeout = 20 * time.Second
	rep := &checkReport{URL: u.String(), SecurityLevel: p.SecurityLevel.String()}
	resp, err := client.Get(u.String())
	if err == nil {
		resp.Body.Close()
		rep.OK, rep.Status = true, resp.Status
	} else {
		rep.Problem = explain(err, host, t)
	}
	if jsonOut {
		if err := e.printJSON(rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(e.stdout, "ok: %s accepts %s (the server answered %s)\n", rep.SecurityLevel, host, rep.Status)
	} else {
		fmt.Fprintf(e.stdout, "refused: %s does not accept %s: %s\n", rep.SecurityLevel, host, rep.Problem)
	}
	if !rep.OK {
		return errors.New("refused: " + rep.Problem)
	}
	return nil
}

// explain turns an error of a handshake, a request or VerifyChain into
// plain words. t is the time certificates were judged at.
func explain(err error, host string, t time.Time) string {
	var (
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		opErr    *net.OpError
		dnsErr   *net.DNSError
	)
	pinned := errors.Is(err, tlspolicy.ErrPinMismatch)
	switch {
	case errors.Is(err, tlspolicy.ErrPlainHTTP):
		return "the URL is plain http://, which only AllowHttp permits; use https://"
	case errors.Is(err, tlspolicy.ErrRedirectRefused):
		return "the server redirected elsewhere, and credentials must not follow: " + strings.TrimPrefix(innermost(err, tlspolicy.ErrRedirectRefused), "tlspolicy: ")
	case errors.As(err, &invalid):
		c := invalid.Cert
		switch invalid.Reason {
		case x509.Expired:
			if !t.IsZero() && t.Before(c.NotBefore) {
				return fmt.Sprintf("certificate %q is not valid until %s (checked at %s)", c.Subject, stamp(c.NotBefore), stamp(t))
			}
			return fmt.Sprintf("certificate %q expired on %s (checked at %s)", c.Subject, stamp(c.NotAfter), stamp(t))
		case x509.NotAuthorizedToSign:
			return fmt.Sprintf("certificate %q signed another but is not a CA, or may not sign certificates", c.Subject)
		case x509.IncompatibleUsage:
			return "the server's certificate, or one above it, is not for server authentication (extended key usage)"
		case x509.TooManyIntermediates:
			return fmt.Sprintf("certificate %q allows fewer intermediates below it (path length) than the chain has", c.Subject)
		}
		return fmt.Sprintf("certificate %q is invalid: %s", c.Subject, invalid.Detail)
	case errors.As(err, &hostname):
		c := hostname.Certificate
		names := append([]string(nil), c.DNSNames...)
		for _, ip := range c.IPAddresses {
			names = append(names, ip.String())
		}
		msg := fmt.Sprintf("the server's certificate names %s, not %s", strings.Join(names, ", "), host)
		if len(names) == 0 {
			msg = fmt.Sprintf("the server's certificate names no host (only the subject %q), so it cannot match %s", c.Subject, host)
		}
		if pinned {
			msg += "; pin the server's own certificate to reach it by an address it does not name"
		}
		return msg
	case errors.As(err, &unknown):
		if pinned {
			return "the server's certificate does not lead to the pinned certificate: it is under another CA or intermediate, or is another certificate than the one pinned (run latch tls pin to see what it sends)"
		}
		return "the server's certificate does not lead to a trusted root: it is self-signed or from a private CA (pin it), or the server does not send its intermediates"
	case errors.Is(err, tlspolicy.ErrPinNotCA):
		return "the server's certificate is not the pinned one (the server has a new or another certificate), and the pinned certificate is no CA that could have issued it"
	case pinned:
		return strings.TrimPrefix(innermost(err, tlspolicy.ErrPinMismatch), "tlspolicy: ")
	case errors.As(err, &record):
		return "the server does not speak TLS on this port"
	case errors.As(err, &alert):
		return "the server refused the handshake: " + alert.Error()
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve %s: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("cannot connect to %s: %v", opErr.Addr, opErr.Err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, http.ErrHandlerTimeout):
		return "the server did not answer in time"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// innermost returns the message of err after the text of sentinel, for
// errors written as "sentinel: reason".
func innermost(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()+": "); i >= 0 {
		return msg[i+len(sentinel.Error())+2:]
	}
	return msg
}
