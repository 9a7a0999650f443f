// Package story runs the whole Latch story on loopback: the platform, the
// integrator Acme, the person's app and a device, narrated step by step.
// examples/stack runs it as a program and its tests run it as a test.
// Every step checks what it claims, the refusals included; the first
// failed check ends the story with an error.
package story

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/device"
	acme "github.com/latchsec/latch/examples/integrator"
	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/pairing"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/latchsec/latch/totp"
)

// Demo account of the story.
const (
	Email    = "alice@example.com"
	Password = "correct horse battery staple"
)

// Options configure a run.
type Options struct {
	// Out receives the narration.
	Out io.Writer
	// StateDir holds the platform's database, its master key and the
	// device's flash. It must exist.
	StateDir string
	// Audit receives the platform's audit log (JSON lines); nil discards it.
	Audit io.Writer
	// Log receives the logs of the device and of Acme (JSON lines, each
	// with its "party"); nil discards them. Like the audit log, they hold
	// no secret.
	Log io.Writer
	// Now is the clock of every party; time.Now by default. Tests pass a
	// clock they advance themselves.
	Now func() time.Time
	// Advance moves the clock on by d; nil means the clock moves by itself
	// (time.Now). The story needs one second to pass between two steps.
	Advance func(d time.Duration)
	// StepTimeout bounds each wait for another party; 10 s by default.
	StepTimeout time.Duration
	// Redis, if set, holds the platform's revocation list and TOTP records
	// (see platform.Config.Redis).
	Redis *redis.UniversalOptions
}

// Result is what a completed story leaves for whoever wants to go on: the
// running platform (with -serve) and the demo account's TOTP key.
type Result struct {
	Platform *platform.Platform
	TOTPKey  totp.Key
	// Secrets are the values that must appear in no API answer, no log and
	// no stored file: passwords, tokens, secrets, request definitions.
	Secrets []string
}

// Run runs the story. The platform is left running in the Result when the
// story completes; the caller closes it. Everything else is stopped
// before Run returns.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StepTimeout == 0 {
		o.StepTimeout = 10 * time.Second
	}
	if o.Audit == nil {
		o.Audit = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	s := &stage{o: o, n: &narrator{out: o.Out}, res: &Result{}}
	s.secret(Password)
	defer func() {
		for i := len(s.stop) - 1; i >= 0; i-- {
			s.stop[i]()
		}
		if err != nil && s.p != nil {
			s.p.Close()
		}
	}()
	acts := []func(context.Context) error{
		s.startPlatform,
		s.signUpAndIn,
		s.leastPrivilege,
		s.onboardDevice,
		s.switchIntegrationOn,
		s.deliverRule,
		s.relayMisbehaves,
		s.rewriteTokenEndpoint,
		s.signedRequests,
		s.signOutEverywhere,
	}
	for _, act := range acts {
		if err := act(ctx); err != nil {
			return nil, err
		}
	}
	fmt.Fprintln(s.n.out, "The story completed: every step did what it said, and every refusal happened.")
	return s.res, nil
}

// stage is what the acts of the story share: the options, the narrator,
// the parties, and what each act leaves for the next ones.
type stage struct {
	o    Options
	n    *narrator
	res  *Result
	stop []func() // what Run stops when it returns, last first

	p                  *platform.Platform
	acmeID, acmeSecret string
	door               *acme.Server
	phone              *app.Phone
	prov               api.Provisioning
	dev                *device.Device
	integrationID      string
	requestID          string // the request Acme posted to integrationID
	def                []byte // its definition
	pushed             []app.Pushed
}

// secret records v as a value that must appear in no API answer, no log
// and no stored file, and returns it.
func (s *stage) secret(v string) string {
	s.res.Secrets = append(s.res.Secrets, v)
	return v
}

// log returns the logger of a party of the story other than the
// platform.
func (s *stage) log(party string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(s.o.Log, nil)).With("party", party)
}

// startPlatform starts the platform on a new state directory, registers
// the integrator Acme and starts Acme's door API.
func (s *stage) startPlatform(ctx context.Context) error {
	o, n := s.o, s.n
	if _, err := os.Stat(filepath.Join(o.StateDir, "platform.db")); err == nil {
		return fmt.Errorf("%s already holds a platform from an earlier run: the story starts from an empty state directory", o.StateDir)
	}
	master, err := loadMasterKey(filepath.Join(o.StateDir, "master.key"))
	if err != nil {
		return err
	}
	p, err := platform.Start(ctx, platform.Config{
		StateDir:  o.StateDir,
		MasterKey: master,
		Audit:     slog.New(slog.NewJSONHandler(o.Audit, nil)),
		Redis:     o.Redis,
		Now:       o.Now,
	})
	if err != nil {
		return err
	}
	s.p, s.res.Platform = p, p
	n.step("The platform starts at %s. Its state is an SQLite database in %s; the token keys in it are encrypted under a master key kept in its own file, and TOTP secrets are sealed.", p.URL, o.StateDir)
	if o.Redis != nil {
		n.step("Its token revocation list and TOTP records are on Redis at %s, where every server of a fleet would share them.", strings.Join(o.Redis.Addrs, ","))
	}

	s.acmeID, s.acmeSecret, err = p.RegisterIntegrator(ctx, "Acme Doors", []string{api.ScopeRequestsWrite})
	if err != nil {
		return err
	}
	s.secret(s.acmeSecret)
	s.door, err = acme.Start(acme.Config{PlatformURL: p.URL, PlatformRoots: p.Roots(), ClientID: s.acmeID, ClientSecret: s.acmeSecret, Now: o.Now,
		Log: s.log("acme")})
	if err != nil {
		return err
	}
	s.stop = append(s.stop, func() { s.door.Close() })
	n.step("The operator registers the integrator Acme Doors as an OAuth client %s that may only ask for the scope %q. Acme's door API runs at %s with a self-signed certificate.", s.acmeID, api.ScopeRequestsWrite, s.door.URL)
	return nil
}

// signUpAndIn is Alice's sign-up and sign-in with password and TOTP code.
func (s *stage) signUpAndIn(ctx context.Context) error {
	o, n := s.o, s.n
	phone := app.New(s.p.URL, s.p.Roots())
	s.phone = phone
	// The app keeps the key sets it pins and the request versions it
	// accepts in a state file of its own, so a restart reopens neither.
	if err := phone.UseStateFile(filepath.Join(o.StateDir, "app-state.json")); err != nil {
		return err
	}
	key, err := phone.SignUp(ctx, Email, Password)
	if err != nil {
		return fmt.Errorf("sign-up: %w", err)
	}
	s.res.TOTPKey = key
	n.step("Alice signs up as %s. The platform stores her password as an argon2id hash (%d MiB, %d passes) and shows a TOTP QR code, which she scans into her authenticator app.",
		Email, platform.PasswordParams.Memory/1024, platform.PasswordParams.Time)

	if _, err := phone.SignIn(ctx, Email, "not my password", func() string { return key.Code(o.Now()) }); !isStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("a wrong password was not refused: %v", err)
	}
	session, err := phone.SignIn(ctx, Email, Password, func() string { return key.Code(o.Now()) })
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	s.secret(session.Token)
	n.step("A wrong password is refused. Alice signs in with her password and then the 6-digit code from her app; she gets a session token with the scopes %s, valid until %s.",
		strings.Join(session.Scopes, ", "), session.Expires.UTC().Format(time.RFC3339))
	return nil
}

// leastPrivilege is the act of scopes and revocation: a read-only token,
// revoked; a session narrowed by token exchange, never widened.
func (s *stage) leastPrivilege(ctx context.Context) error {
	n, phone := s.n, s.phone
	ro, err := phone.CreateToken(ctx, "dashboard", []string{api.ScopeDevicesRead}, 30*24*time.Hour)
	if err != nil {
		return fmt.Errorf("creating a token: %w", err)
	}
	s.secret(ro.Token)
	if err := phone.Do(ctx, http.MethodGet, "/v1/devices", ro.Token, nil, nil); err != nil {
		return fmt.Errorf("the read-only token cannot list devices: %w", err)
	}
	if err := phone.Do(ctx, http.MethodPost, "/v1/devices", ro.Token, map[string]string{"name": "x"}, nil); !isStatus(err, http.StatusForbidden) {
		return fmt.Errorf("a token without %s added a device: %v", api.ScopeDevicesManage, err)
	}
	n.step("For her dashboard she creates a token with only %q (shown once; the platform keeps its id %s and metadata, never the token). It can list devices; adding a device with it gets 403 insufficient_scope.",
		api.ScopeDevicesRead, ro.TokenID)

	var list []api.TokenInfo
	if err := phone.RevokeToken(ctx, ro.TokenID); err != nil {
		return fmt.Errorf("revoking: %w", err)
	}
	if err := phone.Do(ctx, http.MethodGet, "/v1/devices", ro.Token, nil, nil); !isStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("a revoked token was not refused with 401: %v", err)
	}
	if err := phone.Do(ctx, http.MethodGet, "/v1/tokens", phone.Session(), nil, &list); err != nil || !revoked(list, ro.TokenID) {
		return fmt.Errorf("the token list does not show the revocation: %v", err)
	}
	n.step("She revokes the dashboard token: it now gets 401 invalid_token. Her token list shows ids, names, scopes and dates, and that one as revoked.")

	narrow, err := phone.Exchange(ctx, phone.Session(), []string{api.ScopeDevicesRead})
	if err != nil {
		return fmt.Errorf("token exchange: %w", err)
	}
	s.secret(narrow)
	if err := phone.Do(ctx, http.MethodGet, "/v1/devices", narrow, nil, nil); err != nil {
		return fmt.Errorf("the narrowed token cannot list devices: %w", err)
	}
	if err := phone.Do(ctx, http.MethodGet, "/v1/tokens", narrow, nil, nil); !isStatus(err, http.StatusForbidden) {
		return fmt.Errorf("the narrowed token kept a scope it was not given: %v", err)
	}
	var ae *app.APIError
	if _, err := phone.Exchange(ctx, narrow, []string{api.ScopeTokensManage}); !errors.As(err, &ae) || ae.Code != "invalid_scope" {
		return fmt.Errorf("a narrowed token was widened: %v", err)
	}
	n.step("For a script she narrows her session by OAuth token exchange (RFC 8693): the new token has only %q, so it can list devices but gets 403 on her tokens, and exchanging it for %q is refused (invalid_scope): a token can be narrowed, never widened.",
		api.ScopeDevicesRead, api.ScopeTokensManage)
	return nil
}

// onboardDevice pairs the device with the app (onboard), connects it to
// the broker, a wrong secret refused first, and starts it.
func (s *stage) onboardDevice(ctx context.Context) error {
	o, n, p := s.o, s.n, s.p
	onb, err := onboard(ctx, o, s.phone, "front door controller")
	if err != nil {
		return fmt.Errorf("onboarding the device: %w", err)
	}
	prov := onb.prov
	s.prov = prov
	s.secret(prov.Secret)
	mqttCfg := device.MQTTConfig{
		BrokerURL: prov.BrokerURL, Roots: p.Roots(), ClientID: prov.ClientID, Key: prov.Key, Secret: "lt_not-the-secret",
		RulesTopic: api.RulesTopic(prov.App, prov.DeviceID), StateTopic: api.StateTopic(prov.App, prov.DeviceID),
	}
	if _, err := device.DialMQTT(ctx, mqttCfg); !errors.Is(err, device.ErrRefused) {
		return fmt.Errorf("the broker did not refuse a device with a wrong secret: %v", err)
	}
	mqttCfg.Secret = prov.Secret
	link, err := device.DialMQTT(ctx, mqttCfg)
	if err != nil {
		return err
	}
	s.stop = append(s.stop, func() { link.Close() })
	dev, err := device.New(device.Config{
		Provisioning: prov,
		Link:         link,
		FlashPath:    filepath.Join(o.StateDir, "device-flash.json"),
		Now:          o.Now,
		Log:          s.log("device"),
	})
	if err != nil {
		return err
	}
	s.dev = dev
	devCtx, stopDevice := context.WithCancel(ctx)
	devDone := make(chan error, 1)
	go func() { devDone <- dev.Run(devCtx) }()
	s.stop = append(s.stop, func() { stopDevice(); <-devDone })
	n.step("Alice adds her front door controller %s. Its label reads %s; in pairing mode it listens on %s, a local socket standing in for BLE. Someone in range relays a pairing with a guessed code: the device refuses it (SPAKE2+ key confirmation fails) and counts one failed attempt of %d. Alice's app pairs with the code from the label (SPAKE2+ with ML-KEM-768): app and device each derive the same 256-bit end-to-end key, and the app sends the device its application key %s and secret (a token bound to her and this device) under it. The cloud never sees the end-to-end key.",
		prov.DeviceID, onb.label, onb.link, pairing.DefaultMaxAttempts, prov.Key)
	n.step("The device connects to the platform's MQTT broker at %s over TLS, with its key as user name and its secret as password, and subscribes to %s, the only topic it may read. A connection with a wrong secret is refused by the broker.",
		p.MQTTURL, mqttCfg.RulesTopic)
	return nil
}

// switchIntegrationOn is the integration act: Alice switches it on, Acme
// posts its request definition, which the platform seals on arrival, and
// nothing gives the definition back.
func (s *stage) switchIntegrationOn(ctx context.Context) error {
	n, phone := s.n, s.phone
	integrationID, err := phone.EnableIntegration(ctx, s.acmeID)
	if err != nil {
		return fmt.Errorf("switching the integration on: %w", err)
	}
	s.integrationID = integrationID
	n.step("Alice switches on the Acme Doors integration %s. Her app makes an MLKEM768-X25519 key pair, wraps the private key under the end-to-end key, and uploads the public key and the wrapped key.", integrationID)

	requestID, def, err := s.door.Link(ctx, integrationID, "front")
	if err != nil {
		return fmt.Errorf("linking the integration at Acme: %w", err)
	}
	s.requestID, s.def = requestID, def
	var parsed struct {
		URL           string `json:"url"`
		Authorization struct {
			RefreshToken string `json:"refreshToken"`
			ClientSecret string `json:"clientSecret"`
		} `json:"authorization"`
	}
	if err := json.Unmarshal(def, &parsed); err != nil {
		return err
	}
	s.secret(parsed.Authorization.RefreshToken)
	s.secret(parsed.Authorization.ClientSecret)
	s.secret(parsed.URL)
	n.step("Alice links her Acme account. Acme gets a platform token with the OAuth client-credentials grant (scope %q) and posts its request definition: POST /v1/doors/front/open at TlsPinnedCertificate with its own certificate pinned, authorized by an OAuth refresh token for the device. The platform checks it and seals it to the integration's public key on arrival, as request %s; only the envelope is stored.",
		api.ScopeRequestsWrite, requestID)

	// Nothing gives the definition back.
	if err := definitionUnreadable(ctx, phone, s.p, s.acmeID, s.acmeSecret, integrationID, requestID, s.prov.DeviceID, s.res.Secrets, s.o.StateDir); err != nil {
		return err
	}
	n.step("No API gives the definition back: Alice's integration, request list and request show only the envelope; Acme's platform token cannot read them (403); no byte of the database holds the definition's URL, refresh token or client secret.")
	return nil
}

// deliverRule is the act where the app opens the sealed request and the
// device executes it; a stranger's key opens nothing.
func (s *stage) deliverRule(ctx context.Context) error {
	o, n, phone := s.o, s.n, s.phone
	integrationID, requestID, deviceID := s.integrationID, s.requestID, s.prov.DeviceID
	sealed, err := phone.SealedRequests(ctx, integrationID)
	if err != nil || len(sealed) != 1 {
		return fmt.Errorf("listing sealed requests: %v (%d)", err, len(sealed))
	}
	stranger, err := sealedbox.GenerateKey()
	if err != nil {
		return err
	}
	if _, err := sealedbox.Open(stranger, sealed[0].Envelope, api.RequestContext(integrationID, requestID)); !errors.Is(err, sealedbox.ErrWrongKey) {
		return fmt.Errorf("a sealed request opened with another key did not fail: %v", err)
	}
	n.step("Someone holding another private key, say the cloud's own, cannot open the sealed request: sealedbox refuses it (wrong key).")

	pushed, err := phone.PushRules(ctx, integrationID, deviceID)
	if err != nil || len(pushed) != 1 {
		return fmt.Errorf("pushing rules: %v", err)
	}
	s.pushed = pushed
	n.step("Alice's app downloads the wrapped key and the envelope, unwraps the private key (checking the public key is the one it made), opens the request and sends it to the device as a rule: an end-to-end message, sequence 1, which the platform's broker delivers but can neither read nor change.")

	out, err := waitOutcome(ctx, s.dev, o.StepTimeout)
	if err != nil {
		return err
	}
	if out.Refused != "" || out.Error != "" || out.StatusCode != http.StatusOK || out.Request != requestID {
		return fmt.Errorf("the device did not execute the rule: %+v", out)
	}
	call, err := waitCall(ctx, s.door, o.StepTimeout)
	if err != nil || call.StatusCode != http.StatusOK {
		return fmt.Errorf("the door API of Acme did not open the door: %+v %v", call, err)
	}
	var state api.Device
	if err := phone.Do(ctx, http.MethodGet, "/v1/devices/"+deviceID, phone.Session(), nil, &state); err != nil || !bytes.Contains(state.State, []byte(requestID)) {
		return fmt.Errorf("the device's report did not reach the platform: %v", err)
	}
	n.step("The device opens the message, checks its sequence number, and executes the request with package integrator at TlsPinnedCertificate: it exchanges the refresh token at Acme's token endpoint (Acme rotates it; the device saves the new one to flash before using the access token) and calls the door API, which answers 200. It reports \"request %s: 200\" on its state topic, and no secret.", requestID)
	return nil
}

// relayMisbehaves replays the delivered message and alters a byte of it:
// the device refuses both.
func (s *stage) relayMisbehaves(ctx context.Context) error {
	o, n, phone, deviceID := s.o, s.n, s.phone, s.prov.DeviceID
	if err := phone.Relay(ctx, deviceID, s.pushed[0].Message); err != nil {
		return err
	}
	out, err := waitOutcome(ctx, s.dev, o.StepTimeout)
	if err != nil || out.Refused == "" || !strings.Contains(out.Refused, "replay") {
		return fmt.Errorf("a replayed message was not refused: %+v %v", out, err)
	}
	altered := bytes.Clone(s.pushed[0].Message)
	altered[len(altered)-1] ^= 1
	if err := phone.Relay(ctx, deviceID, altered); err != nil {
		return err
	}
	if out, err = waitOutcome(ctx, s.dev, o.StepTimeout); err != nil || out.Refused == "" || out.StatusCode != 0 {
		return fmt.Errorf("an altered message was not refused: %+v %v", out, err)
	}
	n.step("The relay replays the message: the device refuses it (replayed). It alters a byte of it: the device refuses that too (it does not open with the end-to-end key). The door stays shut both times.")
	return nil
}

// rewriteTokenEndpoint is the attack on the unsigned flow
// (tokenEndpointRewritten).
func (s *stage) rewriteTokenEndpoint(ctx context.Context) error {
	return tokenEndpointRewritten(ctx, s.n, s.o, s.phone, s.dev, s.door, s.integrationID, s.requestID, s.prov.DeviceID, s.def)
}

// signedRequests is the act of signed requests (signedAct).
func (s *stage) signedRequests(ctx context.Context) error {
	return signedAct(ctx, s.n, s.o, s.phone, s.door, s.acmeID, s.dev, s.prov.DeviceID, s.secret)
}

// signOutEverywhere ends the story: every token of Alice's stops working.
func (s *stage) signOutEverywhere(ctx context.Context) error {
	phone := s.phone
	if s.o.Advance != nil {
		s.o.Advance(time.Second) // revocation is by whole second: see token.Revocations
	}
	if err := phone.Do(ctx, http.MethodPost, "/v1/signout-everywhere", phone.Session(), nil, nil); err != nil {
		return err
	}
	if err := phone.Do(ctx, http.MethodGet, "/v1/tokens", phone.Session(), nil, nil); !isStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("the session survived signing out everywhere: %v", err)
	}
	s.n.step("Alice signs out everywhere: every token issued to her until now, the session included, gets 401.")
	return nil
}

type narrator struct {
	out io.Writer
	i   int
}

func (n *narrator) step(format string, args ...any) {
	n.i++
	fmt.Fprintf(n.out, "%2d. %s\n", n.i, fmt.Sprintf(format, args...))
}

func isStatus(err error, status int) bool {
	var e *app.APIError
	return errors.As(err, &e) && e.Status == status
}

func revoked(list []api.TokenInfo, id string) bool {
	for _, t := range list {
		if t.ID == id {
			return t.Revoked
		}
	}
	return false
}

func waitOutcome(ctx context.Context, d *device.Device, timeout time.Duration) (device.Outcome, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case o := <-d.Outcomes():
		return o, nil
	case <-t.C:
		return device.Outcome{}, errors.New("the device did not handle the message in time")
	case <-ctx.Done():
		return device.Outcome{}, ctx.Err()
	}
}

func waitCall(ctx context.Context, s *acme.Server, timeout time.Duration) (acme.Call, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case c := <-s.Calls():
		return c, nil
	case <-t.C:
		return acme.Call{}, errors.New("the door API of Acme was not called in time")
	case <-ctx.Done():
		return acme.Call{}, ctx.Err()
	}
}

// definitionUnreadable checks every route that could give a stored request
// back, as Alice and as Acme, and the database files themselves.
func definitionUnreadable(ctx context.Context, phone *app.Phone, p *platform.Platform, acmeID, acmeSecret, integrationID, requestID, deviceID string, secrets []string, stateDir string) error {
	paths := []string{
		"/v1/integrations",
		"/v1/integrations/" + integrationID,
		"/v1/integrations/" + integrationID + "/requests",
		"/v1/integrations/" + integrationID + "/requests/" + requestID,
		"/v1/devices",
		"/v1/devices/" + deviceID,
		"/v1/tokens",
	}
	for _, path := range paths {
		var raw json.RawMessage
		if err := phone.Do(ctx, http.MethodGet, path, phone.Session(), nil, &raw); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		if s := containsAny(raw, secrets); s != "" {
			return fmt.Errorf("GET %s gives back a secret or the definition", path)
		}
	}
	// Acme's own platform token, with the only scope it has.
	cc := clientcredentials.Config{ClientID: acmeID, ClientSecret: acmeSecret, TokenURL: p.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Roots()}}}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
	if err != nil {
		return fmt.Errorf("client credentials of Acme: %w", err)
	}
	for _, path := range paths[1:4] {
		if err := phone.Do(ctx, http.MethodGet, path, tok.AccessToken, nil, nil); !isStatus(err, http.StatusForbidden) {
			return fmt.Errorf("the platform token of Acme read %s: %v", path, err)
		}
	}
	// The database, its journal and everything else in the state dir.
	entries, err := os.ReadDir(stateDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "platform.db") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(stateDir, e.Name()))
		if err != nil {
			return err
		}
		if containsAny(b, secrets) != "" {
			return fmt.Errorf("%s holds a secret or the definition in the clear", e.Name())
		}
	}
	return nil
}

func containsAny(b []byte, secrets []string) string {
	for _, s := range secrets {
		if s != "" && bytes.Contains(b, []byte(s)) {
			return s
		}
	}
	return ""
}

// loadMasterKey reads the platform's master key, making it on first run.
// The demo keeps it in a file beside the database; production keeps it in
// a KMS or a secrets manager, never next to the data it protects.
func loadMasterKey(path string) ([]byte, error) {
	k, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k = platform.NewMasterKey()
		if err := os.WriteFile(path, k, 0o600); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err == nil && len(k) != 32 {
		err = errors.New("story: the master key file must hold 32 bytes")
	}
	return k, err
}

// tokenEndpointRewritten is the attack on the unsigned flow: with write
// access to the platform's storage only, the cloud replaces the envelope
// of the request that already ran with a definition sealed to the same
// (public) key, whose token endpoint is on the attacker's server at
// AllowHttp. The app opens it and the device receives it, but sends the
// refresh token it stores nowhere and says why; once the real envelope is
// back, the device runs it with that token.
func tokenEndpointRewritten(ctx context.Context, n *narrator, o Options, phone *app.Phone, dev *device.Device, door *acme.Server, integrationID, requestID, deviceID string, def []byte) error {
	var hits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer attacker.Close()

	var evil integrator.Request
	if err := json.Unmarshal(def, &evil); err != nil {
		return err
	}
	evil.Authorization.TokenURL = attacker.URL + "/token"
	evil.SecurityLevel, evil.PinnedCertificate = tlspolicy.AllowHttp, ""
	evilDef, err := json.Marshal(evil)
	if err != nil {
		return err
	}
	var in api.Integration
	if err := phone.Do(ctx, http.MethodGet, "/v1/integrations/"+integrationID, phone.Session(), nil, &in); err != nil {
		return err
	}
	pub, err := sealedbox.ParsePublicKey(in.PublicKey)
	if err != nil {
		return err
	}
	forged, err := sealedbox.Seal(pub, evilDef, api.RequestContext(integrationID, requestID))
	if err != nil {
		return err
	}
	// The cloud's write access: the database itself, beside the running
	// platform.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(o.StateDir, "platform.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var original []byte
	if err := db.QueryRowContext(ctx, `SELECT envelope FROM requests WHERE id = ?`, requestID).Scan(&original); err != nil {
		return err
	}
	swap := func(envelope []byte) error {
		_, err := db.ExecContext(ctx, `UPDATE requests SET envelope = ? WHERE id = ?`, envelope, requestID)
		return err
	}
	if err := swap(forged); err != nil {
		return err
	}
	if _, err := phone.PushRules(ctx, integrationID, deviceID); err != nil {
		return fmt.Errorf("pushing the rewritten request: %w", err)
	}
	out, err := waitOutcome(ctx, dev, o.StepTimeout)
	if err != nil {
		return err
	}
	if out.StatusCode != 0 || !strings.Contains(out.Error, "refused") || !strings.Contains(out.Error, "authorization.tokenUrl") || hits.Load() != 0 {
		return fmt.Errorf("the device did not refuse the rewritten token endpoint: %+v, %d requests at the attacker", out, hits.Load())
	}
	select {
	case c := <-door.Calls():
		return fmt.Errorf("the door API was called with the rewritten request: %+v", c)
	default:
	}
	n.step("In this unsigned flow the cloud, or anyone who can write to its database, replaces the sealed request with a definition it sealed to the integration's public key (public keys are public): the token endpoint on its own server %s, at AllowHttp. Alice's app opens it and sends it on, but the refresh token the device stored is bound to where it was delivered: the device runs nothing, the attacker's server receives no request, and the device reports: %s.",
		attacker.URL, out.Error)

	if err := swap(original); err != nil {
		return err
	}
	if _, err := phone.PushRules(ctx, integrationID, deviceID); err != nil {
		return err
	}
	if out, err = waitOutcome(ctx, dev, o.StepTimeout); err != nil || out.StatusCode != http.StatusOK {
		return fmt.Errorf("the real request did not run after the refusal: %+v %v", out, err)
	}
	if call, err := waitCall(ctx, door, o.StepTimeout); err != nil || call.StatusCode != http.StatusOK {
		return fmt.Errorf("the door API of Acme did not open the door: %+v %v", call, err)
	}
	n.step("With the real envelope back, the device runs the request with the refresh token it stored, and the door opens (200).")
	return nil
}
