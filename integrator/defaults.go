package integrator

import "time"

// All defaults and caps in one place.
const (
	// maxDefinition caps the JSON of a request definition.
	maxDefinition = 1 << 20
	// maxBody caps a request body.
	maxBody = 512 << 10
	// maxURL caps the API and token URLs.
	maxURL = 8 << 10
	// maxHeaders and maxHeaderBytes cap the custom headers.
	maxHeaders     = 64
	maxHeaderBytes = 16 << 10
	// maxToken caps access and refresh tokens, maxClientField the client id
	// and secret, maxScopes the number of scopes.
	maxToken       = 8 << 10
	maxClientField = 1 << 10
	maxScopes      = 32
	// maxStored caps the stored form: two URLs, a client id, a refresh
	// token and the fixed fields.
	maxStored = 2*maxURL + maxClientField + maxToken + 512

	// defaultMaxResponseBody is how much of a response body Do reads when
	// Options.MaxResponseBody is zero.
	defaultMaxResponseBody = 1 << 20

	// expiryMargin: an access token is refreshed this long before it
	// expires, so that it does not expire in flight.
	expiryMargin = 30 * time.Second
	// maxExpiresIn caps the lifetime a token endpoint may claim.
	maxExpiresIn = 366 * 24 * time.Hour
	// tokenTimeout bounds one call to the token endpoint.
	tokenTimeout = 30 * time.Second
)

// Caps of signed requests and key sets.
const (
	// maxID caps an integration or request id in a signed statement.
	maxID = 256
	// maxKeySet caps a key set document, maxKeySetKeys its keys.
	maxKeySet     = 64 << 10
	maxKeySetKeys = 16
)
