// Package device is the example firmware: a device that receives rules
// from its owner's app as end-to-end messages, relayed by the platform,
// and executes the integrator requests they carry.
//
//   - It authenticates to the platform with its application key and secret
//     (the pair it would give an MQTT broker as username and password).
//   - At onboarding it pairs with the owner's app over a local link with
//     the setup code on its label ([Onboard], package pairing), which
//     gives both the end-to-end key and gives the device its credentials.
//   - It opens each message with that end-to-end key
//     ([e2e.Receiver]); a message the relay altered
//     or replayed is refused and reported as refused. The highest accepted
//     sequence number is saved before the device acts on a message.
//   - It executes the request with package integrator, under the
//     request's security level (the example integrator pins its leaf
//     certificate: TlsPinnedCertificate), getting OAuth access tokens with
//     the refresh token the request carries and saving every rotated
//     refresh token before using what came with it. What it saves is
//     bound to where the request's definition sends it (token endpoint,
//     client, API origin, level, pinned certificate): a later definition
//     of the same request that would send it elsewhere, as a cloud that
//     rewrote the sealed request would, is refused before anything is
//     sent, and the device reports which fields changed.
//   - It reports each outcome (request id, HTTP status, or why it failed)
//     to the platform: never a token, a header value, a body or a URL.
//
// Make one with [New], call [Device.Run] in a goroutine, and read
// [Device.Outcomes].
package device

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox/e2e"
)

// Outcome is what the device did with one relayed message.
type Outcome struct {
	RelaySeq   int64  `json:"relaySeq"`   // the relay's number of the message
	MessageSeq uint64 `json:"messageSeq"` // the end-to-end sequence number, if opened
	Request    string `json:"request,omitempty"`
	StatusCode int    `json:"status,omitempty"` // the API's answer
	Refused    string `json:"refused,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Link is how the device reaches the platform: through its MQTT broker
// ([DialMQTT]) or its HTTPS relay ([NewHTTPSLink]).
type Link interface {
	// Receive returns messages after the relay number after, waiting for
	// one if there is none yet.
	Receive(ctx context.Context, after int64) ([]api.Message, error)
	// Report sends the device's state.
	Report(ctx context.Context, state any) error
}

// Flash is the device's persistent state. On a real device it lives in
// encrypted flash; here, in a JSON file with mode 0600 (or in memory).
type Flash struct {
	Highest uint64 `json:"highest"` // highest end-to-end number accepted
	Cursor  int64  `json:"cursor"`  // last relay number handled
	// Credentials are the integrator package's stored forms (the token and
	// its binding), by integration id, then request id: request ids of two
	// integrations may be equal, and a request of one integration never
	// gets the credentials of another's.
	Credentials map[string]map[string]string `json:"credentials,omitempty"`
	// RefreshTokens is the flash of earlier releases, by request id alone
	// (a stored form or a bare token). Each is moved to Credentials under
	// the integration of the first rule that names its request id, which
	// trusts that first rule as the integrator package trusts the first
	// definition of a bare token.
	RefreshTokens map[string]string `json:"refreshTokens,omitempty"`
}

// Config configures a device. Provisioning and Link are required.
type Config struct {
	Provisioning api.Provisioning
	Link         Link
	// FlashPath is the file that holds Flash; empty keeps it in memory.
	FlashPath string
	// Log receives the firmware's log; nil discards it.
	Log *slog.Logger
	// Now is the device clock; time.Now by default.
	Now func() time.Time
	// RootCAs, if set, replace the system roots for TlsWithCACheck requests.
	RootCAs *x509.CertPool
}

// Device is a running device.
type Device struct {
	cfg      Config
	log      *slog.Logger
	receiver *e2e.Receiver
	outcomes chan Outcome

	mu      sync.Mutex
	flash   Flash
	callers map[[2]string]*running // by integration id and request id
}

// running is the Caller of one request id and the definition it runs.
type running struct {
	caller     *integrator.Caller
	definition []byte
}

// New loads the device's flash and returns the device.
func New(cfg Config) (*Device, error) {
	if cfg.Link == nil || cfg.Provisioning.DeviceID == "" {
		return nil, errors.New("device: Link and Provisioning are required")
	}
	d := &Device{cfg: cfg, log: cfg.Log, outcomes: make(chan Outcome, 16), callers: map[[2]string]*running{}}
	if d.log == nil {
		d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.FlashPath != "" {
		b, err := os.ReadFile(cfg.FlashPath)
		if err == nil {
			err = json.Unmarshal(b, &d.flash)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("device: reading flash: %w", err)
		}
	}
	if d.flash.Credentials == nil {
		d.flash.Credentials = map[string]map[string]string{}
	}
	r, err := e2e.NewReceiver(cfg.Provisioning.E2EKey, api.RulesContext(cfg.Provisioning.DeviceID), d.flash.Highest)
	if err != nil {
		return nil, err
	}
	d.receiver = r
	return d, nil
}

// Outcomes receives the outcome of every relayed message, in order.
func (d *Device) Outcomes() <-chan Outcome { return d.outcomes }

// Run receives and handles messages until ctx is done.
func (d *Device) Run(ctx context.Context) error {
	for {
		d.mu.Lock()
		cursor := d.flash.Cursor
		d.mu.Unlock()
		msgs, err := d.cfg.Link.Receive(ctx, cursor)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			d.log.Warn("receive failed", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		for _, m := range msgs {
			o := d.handle(ctx, m)
			select {
			case d.outcomes <- o:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// handle opens one message, executes its rule and reports the outcome.
func (d *Device) handle(ctx context.Context, m api.Message) Outcome {
	o := Outcome{RelaySeq: m.Seq}
	d.mu.Lock()
	plaintext, seq, err := d.receiver.Open(m.Body)
	d.flash.Cursor = m.Seq
	if err == nil {
		d.flash.Highest = d.receiver.Highest()
	}
	// Save before acting, so that after a restart a replay of this
	// message is still refused.
	serr := d.saveLocked()
	d.mu.Unlock()
	switch {
	case errors.Is(err, e2e.ErrReplay):
		o.Refused = "replayed or out of order"
	case err != nil:
		o.Refused = "does not open with the end-to-end key (altered, or not from the owner's app)"
	case serr != nil:
		o.Error = "cannot save state"
	}
	if o.Refused != "" || o.Error != "" {
		d.log.Warn("message refused", "relay_seq", m.Seq, "reason", o.Refused+o.Error)
		d.report(ctx, o)
		return o
	}
	o.MessageSeq = seq
	var rule api.Rule
	if err := json.Unmarshal(plaintext, &rule); err != nil {
		o.Error = "malformed rule"
		d.report(ctx, o)
		return o
	}
	o.Request = rule.Request
	resp, err := d.execute(ctx, rule)
	if err != nil {
		o.Error = describe(err)
	} else {
		o.StatusCode = resp.StatusCode
	}
	d.log.Info("rule executed", "request", rule.Request, "status", o.StatusCode, "error", o.Error)
	d.report(ctx, o)
	return o
}

// execute runs the rule's request. One Caller per integration and request
// id keeps the request's credentials; a changed definition of the request
// is handed to it with Rebind, which keeps them only if the definition
// sends them where they were delivered for. A rule of another integration
// that names the same request id gets a Caller of its own, and none of
// them.
func (d *Device) execute(ctx context.Context, rule api.Rule) (*integrator.Response, error) {
	if rule.Integration == "" || rule.Request == "" {
		return nil, errors.New("device: a rule without its integration or request id")
	}
	key := [2]string{rule.Integration, rule.Request}
	d.mu.Lock()
	r := d.callers[key]
	stored, err := d.storedLocked(rule.Integration, rule.Request)
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if r != nil && bytes.Equal(r.definition, rule.Definition) {
		return r.caller.Do(ctx)
	}
	req, err := integrator.ParseRequest(rule.Definition)
	if err != nil {
		return nil, err
	}
	log := d.log.With("request", rule.Request)
	log.Info("executing", "definition", req) // logs no secret: see integrator.Request.LogValue
	if r != nil {
		err = r.caller.Rebind(ctx, req)
	} else {
		r = &running{}
		r.caller, err = integrator.New(req, integrator.Options{
			RefreshToken: stored,
			SaveRefreshToken: func(_ context.Context, form string) error {
				d.mu.Lock()
				defer d.mu.Unlock()
				if d.flash.Credentials[rule.Integration] == nil {
					d.flash.Credentials[rule.Integration] = map[string]string{}
				}
				d.flash.Credentials[rule.Integration][rule.Request] = form
				return d.saveLocked()
			},
			RootCAs: d.cfg.RootCAs,
			Now:     d.cfg.Now,
			Log:     log,
		})
	}
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	r.definition = bytes.Clone(rule.Definition)
	d.callers[key] = r
	d.mu.Unlock()
	return r.caller.Do(ctx)
}

// storedLocked returns the stored credential of a request, moving one of
// an earlier release's flash (by request id alone) to the integration of
// the first rule that names it, saved before it is used. d.mu is held.
func (d *Device) storedLocked(integrationID, requestID string) (string, error) {
	if form := d.flash.Credentials[integrationID][requestID]; form != "" {
		return form, nil
	}
	legacy, ok := d.flash.RefreshTokens[requestID]
	if !ok {
		return "", nil
	}
	if d.flash.Credentials[integrationID] == nil {
		d.flash.Credentials[integrationID] = map[string]string{}
	}
	d.flash.Credentials[integrationID][requestID] = legacy
	delete(d.flash.RefreshTokens, requestID)
	if err := d.saveLocked(); err != nil {
		delete(d.flash.Credentials[integrationID], requestID)
		d.flash.RefreshTokens[requestID] = legacy
		return "", err
	}
	return legacy, nil
}

// describe says why a request failed in words that carry no secret: the
// integrator package's errors never contain one.
func describe(err error) string {
	var be *integrator.BindingError
	switch {
	case errors.As(err, &be):
		return "refused: the definition sends the request's stored credentials elsewhere than they were delivered for (changed: " +
			strings.Join(be.Changed, ", ") + "); nothing was sent"
	case errors.Is(err, integrator.ErrReauthorize):
		return "the integrator refused the refresh token: link the integration again"
	case errors.Is(err, integrator.ErrInvalidRequest):
		return "invalid request definition"
	case errors.Is(err, integrator.ErrStoredState):
		return "the stored credentials of the request are unreadable: link the integration again"
	}
	return err.Error()
}

func (d *Device) report(ctx context.Context, o Outcome) {
	if err := d.cfg.Link.Report(ctx, o); err != nil {
		d.log.Warn("report failed", "err", err)
	}
}

// saveLocked writes the flash. d.mu is held.
func (d *Device) saveLocked() error {
	if d.cfg.FlashPath == "" {
		return nil
	}
	b, err := json.Marshal(d.flash)
	if err != nil {
		return err
	}
	tmp := d.cfg.FlashPath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.cfg.FlashPath)
}
