// Package api is the example platform's HTTP API as its clients see it: the
// JSON bodies of its requests and answers, its scopes, the topics of its
// MQTT broker and the sealedbox context of a stored request. The phone app
// (examples/app), the integrator (examples/integrator) and the device
// (examples/device) import this package and never examples/platform, so a
// client links no server code: no SQLite, no broker, no Redis client
// (TestClientsImportNoServer checks it).
//
// It holds too what the app and the device send each other out of the
// platform's sight, so that the app links no firmware and no MQTT client
// (the same test checks it): the device's identity in the pairing payload
// ([DeviceIdentity]), what the device holds after onboarding
// ([Provisioning]), the rule the app sends on the end-to-end channel
// ([Rule]) and that channel's sealedbox context ([RulesContext]), which
// names the device, so a message the relay moves to another device does
// not open there.
//
// The platform decodes every request body strictly (internal/strictjson):
// exact member names, no duplicates in any case, no unknown members. A
// client that sends these types as they are, with encoding/json, sends
// what the platform accepts. Every error answer is an [Error].
//
// The routes, and which body each takes and gives:
//
//	POST   /v1/signup                  SignUpRequest → SignUpResponse
//	POST   /v1/signin                  SignInRequest → SignInResponse
//	POST   /v1/signin/totp             SignInCodeRequest → SessionResponse
//	POST   /v1/signin/recovery         SignInCodeRequest (a recovery code) → SessionResponse
//	POST   /v1/recovery-codes          StepUpRequest → RecoveryCodesResponse
//	POST   /v1/totp/reenroll           StepUpRequest → SignUpResponse
//	POST   /v1/totp/reenroll/confirm   CodeRequest → 204
//	POST   /v1/tokens                  CreateTokenRequest → SessionResponse
//	GET    /v1/tokens                  → []TokenInfo
//	DELETE /v1/tokens/{id}             → 204
//	POST   /v1/signout-everywhere      → 204
//	POST   /oauth/token                form (RFC 6749 §4.4, RFC 8693) → TokenResponse
//	POST   /v1/integrations            CreateIntegrationRequest → IDResponse
//	GET    /v1/integrations            → []Integration
//	GET    /v1/integrations/{id}       → Integration
//	GET    /v1/integrations/{id}/requests       → []SealedRequest
//	GET    /v1/integrations/{id}/requests/{rid} → SealedRequest
//	POST   /v1/integrations/{id}/requests       a request definition → IDResponse
//	GET    /v1/integrations/{id}/public-key     → PublicKeyResponse
//	PUT    /v1/integrations/{id}/requests/{rid} a signed envelope → IDResponse
//	POST   /v1/devices                 CreateDeviceRequest → DeviceCredentials
//	GET    /v1/devices                 → []Device
//	GET    /v1/devices/{id}            → Device
//	POST   /v1/devices/{id}/messages   MessageRequest → MessageResponse
//	DELETE /v1/devices/{id}            → 204
//	GET    /v1/device/messages?after=&wait=     (HTTP Basic: key, secret) → []Message
//	POST   /v1/device/state            a JSON object of at most 4 KiB (HTTP Basic) → 204
package api
