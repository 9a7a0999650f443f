package api

import (
	"encoding/json"
	"time"

	"github.com/latchsec/latch/sealedbox/e2e"
)

// Scopes the platform's API knows. A token grants exactly the scopes it
// names.
const (
	ScopeTokensManage       = "tokens:manage"       // create, list and revoke one's own tokens
	ScopeDevicesRead        = "devices:read"        // list devices and read their state
	ScopeDevicesManage      = "devices:manage"      // add devices, send them end-to-end messages
	ScopeIntegrationsManage = "integrations:manage" // switch integrations on, fetch their sealed requests
	ScopeRequestsWrite      = "requests:write"      // integrators: post request definitions
)

// RulesTopic is where a device receives end-to-end messages from its
// owner's app: the only topic it may subscribe to. owner is the {app} of
// DeviceCredentials.App.
func RulesTopic(owner, device string) string {
	return "apps/" + owner + "/devices/" + device + "/rules"
}

// StateTopic is where a device reports its state: the only topic it may
// publish to.
func StateTopic(owner, device string) string {
	return "apps/" + owner + "/devices/" + device + "/state"
}

// RequestContext is the sealedbox context of a stored request: it names
// the record, so an envelope moved to another record or integration does
// not open. The platform seals with it and the app opens with it.
func RequestContext(integrationID, requestID string) []byte {
	return []byte("latch-example/v1 integration " + integrationID + " request " + requestID)
}

// Error is every refusal's body, in the shape OAuth 2.0 uses (RFC 6749
// §5.2): a code for programs and a sentence for people.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

// SignUpRequest is the body of POST /v1/signup.
type SignUpRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SignUpResponse is the answer to POST /v1/signup: the TOTP key to add to
// an authenticator app, as a URI and as a QR code (PNG). It is shown once.
type SignUpResponse struct {
	UserID     string `json:"userId"`
	OTPAuthURI string `json:"otpauthUri"`
	QRCodePNG  []byte `json:"qrCodePng"`
}

// SignInRequest is the body of POST /v1/signin, the password step.
type SignInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SignInResponse is the answer to POST /v1/signin: the challenge for the
// code step. Enroll is set when the person's TOTP enrollment was never
// confirmed and has expired: the key from sign-up no longer works, and
// this new one, shown once, is to be added to the authenticator app before
// the code step.
type SignInResponse struct {
	Challenge string          `json:"challenge"`
	Next      string          `json:"next"`
	Enroll    *SignUpResponse `json:"enroll,omitempty"`
}

// SignInCodeRequest is the body of the code step: POST /v1/signin/totp
// with a TOTP code, POST /v1/signin/recovery with a recovery code.
type SignInCodeRequest struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

// SessionResponse is the answer to a completed sign-in, and to the
// creation of a token.
type SessionResponse struct {
	Token   string    `json:"token"`
	TokenID string    `json:"tokenId"`
	Scopes  []string  `json:"scopes"`
	Expires time.Time `json:"expires"`
}

// StepUpRequest is the body of POST /v1/recovery-codes and POST
// /v1/totp/reenroll: the password again, and a TOTP code, which may be
// left out within ten minutes of signing in with a session.
type StepUpRequest struct {
	Password string `json:"password"`
	Code     string `json:"code,omitempty"`
}

// CodeRequest is the body of POST /v1/totp/reenroll/confirm: a code of the
// new key.
type CodeRequest struct {
	Code string `json:"code"`
}

// RecoveryCodesResponse is the answer to POST /v1/recovery-codes: ten
// single-use codes, each of which signs in once in place of a TOTP code
// (POST /v1/signin/recovery). They are shown once; the platform keeps only
// their hashes, and a new set replaces the old one.
type RecoveryCodesResponse struct {
	Codes []string `json:"codes"`
}

// CreateTokenRequest is the body of POST /v1/tokens: a name, scopes and
// applications within the caller's, and an expiry of up to a year.
type CreateTokenRequest struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Apps      []string `json:"apps,omitempty"`
	ExpiresIn int64    `json:"expiresIn"` // seconds
}

// TokenInfo is what the platform knows of a token: everything but the
// token.
type TokenInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scopes  []string  `json:"scopes"`
	Apps    []string  `json:"apps,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked bool      `json:"revoked"`
}

// TokenResponse is the answer of the OAuth 2.0 token endpoint (POST
// /oauth/token; RFC 6749 §5.1, RFC 8693 §2.2.1).
type TokenResponse struct {
	AccessToken     string `json:"access_token"`
	ExpiresIn       int64  `json:"expires_in,omitempty"` // seconds
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	Scope           string `json:"scope"`
	TokenType       string `json:"token_type"`
}

// CreateIntegrationRequest is the body of POST /v1/integrations.
type CreateIntegrationRequest struct {
	Integrator string `json:"integrator"` // the integrator's client id
	PublicKey  string `json:"publicKey"`  // sealedbox text form
	WrappedKey string `json:"wrappedKey"` // e2e.WrapPrivateKey's text form, latch_wk_...
}

// IDResponse is the answer naming what a request made or stored: an
// integration, or a request of one.
type IDResponse struct {
	ID string `json:"id"`
}

// Integration is what the platform stores of an integration: the app's
// public key and its private key wrapped under the person's end-to-end
// key, which the platform does not have.
type Integration struct {
	ID         string    `json:"id"`
	Integrator string    `json:"integrator"`
	PublicKey  string    `json:"publicKey"`
	WrappedKey string    `json:"wrappedKey"` // latch_wk_...
	Created    time.Time `json:"created"`
}

// SealedRequest is a stored request: its id and envelope. There is no
// other form of it. Signed marks an envelope the integrator signed and
// sealed itself (sealedbox.IsSigned); the mark is the platform's, and the
// app checks the signature itself.
type SealedRequest struct {
	ID       string    `json:"id"`
	Envelope []byte    `json:"envelope"`
	Created  time.Time `json:"created"`
	Signed   bool      `json:"signed"`
}

// PublicKeyResponse is the answer to GET /v1/integrations/{id}/public-key:
// the integration's public key, in sealedbox text form, for an integrator
// that seals its requests itself.
type PublicKeyResponse struct {
	PublicKey string `json:"publicKey"`
}

// CreateDeviceRequest is the body of POST /v1/devices.
type CreateDeviceRequest struct {
	Name string `json:"name"` // 1 to 100 bytes
}

// Device is a device as its owner sees it. Its secret is not kept: the
// platform verifies it as a token bound to the device.
type Device struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Key     string          `json:"key"`
	State   json.RawMessage `json:"state,omitempty"`
	Created time.Time       `json:"created"`
}

// DeviceCredentials are a new device's application key and secret, shown
// once to the app, which hands them to the device during onboarding.
type DeviceCredentials struct {
	ID        string `json:"id"`
	App       string `json:"app"` // the owner's id: the {app} of the device's topics
	Key       string `json:"key"`
	Secret    string `json:"secret"`
	ClientID  string `json:"clientId"`
	BrokerURL string `json:"brokerUrl"`
}

// MessageRequest is the body of POST /v1/devices/{id}/messages: an
// end-to-end message of 1 byte to 64 KiB, which the platform relays as it
// is and cannot read.
type MessageRequest struct {
	Message []byte `json:"message"`
}

// MessageResponse is the answer to POST /v1/devices/{id}/messages: the
// message's number in the relay.
type MessageResponse struct {
	Seq int64 `json:"seq"`
}

// Message is an end-to-end message waiting for a device, numbered by the
// relay. The body is opaque to the platform.
type Message struct {
	Seq  int64  `json:"seq"`
	Body []byte `json:"body"`
}

// What travels between the app and the device, out of the platform's
// sight: the pairing payload over the local link, and the end-to-end
// channel through the relay.

// RulesContext is the e2e message context of the end-to-end channel
// from the owner's app to device id. The app seals with it and the device
// opens with it, so a message the relay moves to another device does not
// open there.
func RulesContext(deviceID string) []byte {
	return []byte("latch-example/v1 device " + deviceID + " rules")
}

// Rule is what the app sends a device on the end-to-end channel: a request
// to execute, opened from the integration's sealed request.
type Rule struct {
	Integration string          `json:"integration"`
	Request     string          `json:"request"`
	Definition  json.RawMessage `json:"definition"`
}

// DeviceIdentity is the device's identity at the platform, which the app
// sends in the pairing payload's Settings (JSON) beside the application key
// and secret.
type DeviceIdentity struct {
	DeviceID string `json:"deviceId"`
	App      string `json:"app"`
	ClientID string `json:"clientId"`
}

// Provisioning is what a device holds after onboarding: its identity at
// the platform and its credentials, sent by the app over the paired local
// link, and the end-to-end key of its channel with the app.
type Provisioning struct {
	DeviceID  string
	App       string // the owner's id at the platform: the {app} of its topics
	ClientID  string // its MQTT client id
	Key       string // application key (public): the MQTT user name
	Secret    string // application secret: the MQTT password
	BrokerURL string
	E2EKey    *e2e.Key // shared with the owner's app only; never sent to the cloud
}
