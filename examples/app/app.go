// Package app is the example phone app: the person's side of Latch.
//
//   - It signs the person up and in at the platform: password, then a TOTP
//     code from their authenticator app.
//   - At onboarding it pairs with the device over a local link with the
//     setup code on the device's label ([Phone.PairDevice], package
//     pairing): both derive a 256-bit end-to-end key, and the app sends
//     the device its application key and secret under it. The key never
//     crosses the link and never goes to the cloud. Each device the app
//     pairs has a key of its own, for its own channel; the first becomes
//     the person's end-to-end key too. ([Phone.AddDevice] is the shortcut
//     without a link, which hands every device the person's key as a Go
//     value, for tests of other parts.)
//   - When the person switches an integration on, it makes a key pair,
//     wraps the private key under the end-to-end key and uploads the public
//     key and the wrapped key.
//   - Later it downloads the sealed requests and the wrapped key, unwraps
//     (checking that the cloud did not swap the public key), opens each
//     request and sends the device a rule as an end-to-end message through
//     the platform's relay, which can neither read, alter nor replay it.
//   - For an integrator that signs its requests, it fetches the
//     integrator's key set from the integrator's own host, shows the host
//     and pins the set ([Phone.PinIntegratorKeys]); from then on it accepts
//     only requests of that integration signed with a pinned key, for
//     their place, and not older than what it accepted before. With a
//     state file ([Phone.UseStateFile]) the pins and the accepted versions
//     survive a restart.
//
// Make one with [New].
package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/pairing"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/e2e"
	"github.com/latchsec/latch/totp"
)

// Phone is the person's app.
type Phone struct {
	base   string
	client *http.Client

	mu      sync.Mutex
	session string // the session token from sign-in
	e2eKey  *e2e.Key
	senders map[string]*e2e.Sender // by device id
	signed  signedState            // pinned key sets and accepted versions
}

// New returns an app that talks to the platform at baseURL, whose
// certificate chains to roots.
func New(baseURL string, roots *x509.CertPool) *Phone {
	return &Phone{base: baseURL, senders: map[string]*e2e.Sender{},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		}}}
}

// APIError is a refusal from the platform: the HTTP status and the OAuth-
// style error code.
type APIError struct {
	Status int
	Code   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("app: platform answered %d %s", e.Status, e.Code)
}

// Do calls the platform's API with the bearer token tok ("" for none),
// sending in as JSON (if not nil) and decoding the answer into out (if not
// nil). A status other than 2xx is an *APIError.
func (p *Phone) Do(ctx context.Context, method, path, tok string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e api.Error
		json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&e)
		return &APIError{Status: resp.StatusCode, Code: e.Code}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out)
}

// Session returns the session token of the last sign-in.
func (p *Phone) Session() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.session
}

// SignUp makes an account and returns the TOTP key the platform showed
// (as a QR code and a URI), as the person's authenticator app holds it
// after scanning.
func (p *Phone) SignUp(ctx context.Context, email, password string) (totp.Key, error) {
	var resp api.SignUpResponse
	if err := p.Do(ctx, http.MethodPost, "/v1/signup", "", api.SignUpRequest{Email: email, Password: password}, &resp); err != nil {
		return totp.Key{}, err
	}
	return totp.ParseKeyURI(resp.OTPAuthURI)
}

// NewKeyError is SignIn's error when the platform gave the person a new
// TOTP key because the one from sign-up expired before its first code: add
// Key to the authenticator app and sign in again.
type NewKeyError struct{ Key totp.Key }

func (e *NewKeyError) Error() string {
	return "app: the TOTP key from sign-up expired unconfirmed; add the new one and sign in again"
}

// SignIn signs in with the password, then with the code that code returns
// (what the person reads off their authenticator app), and keeps the
// session token. It returns a *NewKeyError, before asking for a code, if
// the platform replaced an expired, never confirmed key.
func (p *Phone) SignIn(ctx context.Context, email, password string, code func() string) (*api.SessionResponse, error) {
	var ch api.SignInResponse
	if err := p.Do(ctx, http.MethodPost, "/v1/signin", "", api.SignInRequest{Email: email, Password: password}, &ch); err != nil {
		return nil, err
	}
	if ch.Enroll != nil {
		k, err := totp.ParseKeyURI(ch.Enroll.OTPAuthURI)
		if err != nil {
			return nil, err
		}
		return nil, &NewKeyError{Key: k}
	}
	var s api.SessionResponse
	if err := p.Do(ctx, http.MethodPost, "/v1/signin/totp", "", api.SignInCodeRequest{Challenge: ch.Challenge, Code: code()}, &s); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.session = s.Token
	p.mu.Unlock()
	return &s, nil
}

// RecoveryCodes makes a new set of recovery codes and returns them, to
// keep away from the phone. They replace any earlier set. The platform asks
// for the password again and a code from the authenticator app (code); the
// code may be empty within ten minutes of signing in.
func (p *Phone) RecoveryCodes(ctx context.Context, password, code string) ([]string, error) {
	var resp api.RecoveryCodesResponse
	if err := p.Do(ctx, http.MethodPost, "/v1/recovery-codes", p.Session(), stepUp(password, code), &resp); err != nil {
		return nil, err
	}
	return resp.Codes, nil
}

// ReplaceAuthenticator starts moving to a new authenticator app and returns
// the new key to add to it; the password and code are asked as by
// RecoveryCodes (after signing in with a recovery code, the password
// alone, at once). The old app keeps working until ConfirmAuthenticator
// gets a code of the new key.
func (p *Phone) ReplaceAuthenticator(ctx context.Context, password, code string) (totp.Key, error) {
	var resp api.SignUpResponse
	if err := p.Do(ctx, http.MethodPost, "/v1/totp/reenroll", p.Session(), stepUp(password, code), &resp); err != nil {
		return totp.Key{}, err
	}
	return totp.ParseKeyURI(resp.OTPAuthURI)
}

// stepUp is the body of a second-factor change.
func stepUp(password, code string) api.StepUpRequest {
	return api.StepUpRequest{Password: password, Code: code}
}

// ConfirmAuthenticator completes ReplaceAuthenticator with a code of the
// new key.
func (p *Phone) ConfirmAuthenticator(ctx context.Context, code string) error {
	return p.Do(ctx, http.MethodPost, "/v1/totp/reenroll/confirm", p.Session(), api.CodeRequest{Code: code}, nil)
}

// SignInWithRecoveryCode signs in with the password and one of the
// recovery codes, for when the authenticator app is gone, and keeps the
// session token. Each code works once.
func (p *Phone) SignInWithRecoveryCode(ctx context.Context, email, password, code string) (*api.SessionResponse, error) {
	var ch api.SignInResponse
	if err := p.Do(ctx, http.MethodPost, "/v1/signin", "", api.SignInRequest{Email: email, Password: password}, &ch); err != nil {
		return nil, err
	}
	var s api.SessionResponse
	if err := p.Do(ctx, http.MethodPost, "/v1/signin/recovery", "", api.SignInCodeRequest{Challenge: ch.Challenge, Code: code}, &s); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.session = s.Token
	p.mu.Unlock()
	return &s, nil
}

// CreateToken makes an API token with the given scopes, valid for ttl.
// The token is shown once; the platform keeps only its id and metadata.
func (p *Phone) CreateToken(ctx context.Context, name string, scopes []string, ttl time.Duration) (*api.SessionResponse, error) {
	var s api.SessionResponse
	err := p.Do(ctx, http.MethodPost, "/v1/tokens", p.Session(),
		api.CreateTokenRequest{Name: name, Scopes: scopes, ExpiresIn: int64(ttl / time.Second)}, &s)
	return &s, err
}

// Exchange narrows tok into a new token with only the given scopes, by
// OAuth 2.0 token exchange (RFC 8693) at the platform's token endpoint. A
// token can be narrowed, never widened: asking for more is an *APIError
// with the code invalid_scope.
func (p *Phone) Exchange(ctx context.Context, tok string, scopes []string) (string, error) {
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {tok},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"scope":              {strings.Join(scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 64<<10)
	if resp.StatusCode != http.StatusOK {
		var e api.Error
		json.NewDecoder(body).Decode(&e)
		return "", &APIError{Status: resp.StatusCode, Code: e.Code}
	}
	var out api.TokenResponse
	if err := json.NewDecoder(body).Decode(&out); err != nil {
		return "", err
	}
	return out.AccessToken, nil
}

// RevokeToken revokes the token with id.
func (p *Phone) RevokeToken(ctx context.Context, id string) error {
	return p.Do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(id), p.Session(), nil, nil)
}

// AddDevice registers a device at the platform and returns what the app
// hands the device over the local channel: its key and secret, and the
// person's end-to-end key (made on first use).
func (p *Phone) AddDevice(ctx context.Context, name string) (api.Provisioning, error) {
	var cred api.DeviceCredentials
	if err := p.Do(ctx, http.MethodPost, "/v1/devices", p.Session(), api.CreateDeviceRequest{Name: name}, &cred); err != nil {
		return api.Provisioning{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.e2eKey == nil {
		p.e2eKey = e2e.GenerateKey()
	}
	// The app is the one sender on this channel; a real app persists
	// Last() and passes it here after a restart.
	s, err := e2e.NewSender(p.e2eKey, api.RulesContext(cred.ID), 0)
	if err != nil {
		return api.Provisioning{}, err
	}
	p.senders[cred.ID] = s
	return api.Provisioning{DeviceID: cred.ID, App: cred.App, ClientID: cred.ClientID, Key: cred.Key, Secret: cred.Secret,
		BrokerURL: cred.BrokerURL, E2EKey: p.e2eKey}, nil
}

// PairDevice registers a device at the platform and pairs with it over
// conn, the local link, proving knowledge of code (from the device's
// label): the app and the device derive the end-to-end key, and the app
// sends the device its key, secret and identity under it. The derived key
// is the key of the end-to-end channel to this device, which only the
// device and the app hold: every device the app pairs gets a key of its
// own, so none opens what the app sends another. The first key the app
// derives (unless [Phone.AddDevice] made one before) becomes the person's
// end-to-end key as well, under which it wraps integration keys. It
// returns the device's id.
func (p *Phone) PairDevice(ctx context.Context, conn io.ReadWriter, code pairing.SetupCode, name string) (string, error) {
	var cred api.DeviceCredentials
	if err := p.Do(ctx, http.MethodPost, "/v1/devices", p.Session(), api.CreateDeviceRequest{Name: name}, &cred); err != nil {
		return "", err
	}
	settings, err := json.Marshal(api.DeviceIdentity{DeviceID: cred.ID, App: cred.App, ClientID: cred.ClientID})
	if err != nil {
		return "", err
	}
	var pa pairing.App
	key, err := pa.Pair(ctx, conn, code, pairing.Provisioning{
		AppKey: cred.Key, AppSecret: cred.Secret, PlatformURL: cred.BrokerURL, Settings: settings,
	})
	if err != nil {
		return "", err
	}
	s, err := e2e.NewSender(key, api.RulesContext(cred.ID), 0)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.e2eKey == nil {
		p.e2eKey = key
	}
	p.senders[cred.ID] = s
	return cred.ID, nil
}

// EnableIntegration switches an integration with the integrator's client
// id on: a new key pair (the default, hybrid post-quantum suite), the
// private key wrapped under the end-to-end key, both uploaded. It returns
// the integration's id.
func (p *Phone) EnableIntegration(ctx context.Context, integratorID string) (string, error) {
	p.mu.Lock()
	key := p.e2eKey
	p.mu.Unlock()
	if key == nil {
		return "", errors.New("app: onboard a device first (the end-to-end key is made then)")
	}
	priv, err := sealedbox.GenerateKey()
	if err != nil {
		return "", err
	}
	wrapped, err := e2e.WrapPrivateKey(key, priv)
	if err != nil {
		return "", err
	}
	var out api.IDResponse
	err = p.Do(ctx, http.MethodPost, "/v1/integrations", p.Session(), api.CreateIntegrationRequest{
		Integrator: integratorID, PublicKey: priv.PublicKey().String(), WrappedKey: wrapped,
	}, &out)
	return out.ID, err
}

// SealedRequests returns the integration's stored requests: envelopes only.
func (p *Phone) SealedRequests(ctx context.Context, integrationID string) ([]api.SealedRequest, error) {
	var list []api.SealedRequest
	err := p.Do(ctx, http.MethodGet, "/v1/integrations/"+url.PathEscape(integrationID)+"/requests", p.Session(), nil, &list)
	return list, err
}

// integrationKey downloads the integration's key pair and unwraps the
// private key, which fails with e2e.ErrKeyMismatch if the cloud
// swapped the public key.
func (p *Phone) integrationKey(ctx context.Context, integrationID string) (*sealedbox.PrivateKey, error) {
	var in api.Integration
	if err := p.Do(ctx, http.MethodGet, "/v1/integrations/"+url.PathEscape(integrationID), p.Session(), nil, &in); err != nil {
		return nil, err
	}
	pub, err := sealedbox.ParsePublicKey(in.PublicKey)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	key := p.e2eKey
	p.mu.Unlock()
	return e2e.UnwrapPrivateKey(key, in.WrappedKey, pub)
}

// Pushed is a rule the app sent: the request it came from and the
// end-to-end message as the relay got it.
type Pushed struct {
	Request string
	Message []byte
}

// PushRules opens every sealed request of the integration and sends each
// to the device as a rule over the end-to-end channel.
func (p *Phone) PushRules(ctx context.Context, integrationID, deviceID string) ([]Pushed, error) {
	key, err := p.integrationKey(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	reqs, err := p.SealedRequests(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	var sent []Pushed
	for _, r := range reqs {
		def, err := p.openRequest(key, integrationID, r)
		if err != nil {
			return sent, fmt.Errorf("app: opening request %s: %w", r.ID, err)
		}
		rule, err := json.Marshal(api.Rule{Integration: integrationID, Request: r.ID, Definition: def})
		clear(def)
		if err != nil {
			return sent, err
		}
		msg, err := p.SendToDevice(ctx, deviceID, rule)
		clear(rule)
		if err != nil {
			return sent, err
		}
		sent = append(sent, Pushed{Request: r.ID, Message: msg})
	}
	return sent, nil
}

// SendToDevice seals plaintext for the device on the end-to-end channel
// and hands it to the platform's relay. It returns the message as relayed.
func (p *Phone) SendToDevice(ctx context.Context, deviceID string, plaintext []byte) ([]byte, error) {
	p.mu.Lock()
	s := p.senders[deviceID]
	var msg []byte
	err := errors.New("app: no end-to-end channel with that device")
	if s != nil {
		msg, err = s.Seal(plaintext)
	}
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return msg, p.Relay(ctx, deviceID, msg)
}

// Relay posts a message, as it is, to the device's relay queue.
func (p *Phone) Relay(ctx context.Context, deviceID string, msg []byte) error {
	return p.Do(ctx, http.MethodPost, "/v1/devices/"+url.PathEscape(deviceID)+"/messages", p.Session(), api.MessageRequest{Message: msg}, nil)
}
