package integrator

import (
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// AuthType is how the device authenticates to an integrator's API. Its zero
// value is NoAuth. In JSON it is written as its name.
type AuthType int

const (
	// NoAuth: no authorization of Latch's; the integrator may put an API
	// key in a custom header.
	NoAuth AuthType = iota
	// OAuthAccessToken: a fixed OAuth 2.0 access token, sent as
	// "Authorization: Bearer".
	OAuthAccessToken
	// OAuthRefreshToken: an OAuth 2.0 refresh token that the device
	// exchanges itself for access tokens at the token endpoint.
	OAuthRefreshToken
)

var errUnknownName = errors.New("integrator: unknown name")

var authTypeNames = [...]string{NoAuth: "NoAuth", OAuthAccessToken: "OAuthAccessToken", OAuthRefreshToken: "OAuthRefreshToken"}

func (t AuthType) String() string {
	if t >= 0 && int(t) < len(authTypeNames) {
		return authTypeNames[t]
	}
	return fmt.Sprintf("AuthType(%d)", int(t))
}

// MarshalText returns the type's name.
func (t AuthType) MarshalText() ([]byte, error) {
	if t < 0 || int(t) >= len(authTypeNames) {
		return nil, fmt.Errorf("%w: authorization type %d", errUnknownName, int(t))
	}
	return []byte(authTypeNames[t]), nil
}

// UnmarshalText sets the type from its exact name.
func (t *AuthType) UnmarshalText(b []byte) error {
	for i, n := range authTypeNames {
		if string(b) == n {
			*t = AuthType(i)
			return nil
		}
	}
	return fmt.Errorf("%w: authorization.type must be NoAuth, OAuthAccessToken or OAuthRefreshToken", errUnknownName)
}

// AuthStyle is how an OAuthRefreshToken client authenticates to the token
// endpoint: "InHeader" (HTTP Basic, RFC 6749 section 2.3.1; needs a client
// secret) or "InParams" (client_id and client_secret in the form). The zero
// value, written as an absent field, means InHeader when there is a client
// secret and InParams for a public client without one. It is never guessed
// by trial, which would cost a failed request.
type AuthStyle int

const (
	AuthStyleDefault AuthStyle = iota
	AuthInHeader
	AuthInParams
)

func (s AuthStyle) text() string {
	switch s {
	case AuthInHeader:
		return "InHeader"
	case AuthInParams:
		return "InParams"
	case AuthStyleDefault:
		return ""
	}
	return fmt.Sprintf("AuthStyle(%d)", int(s))
}

func (s AuthStyle) valid() bool { return s >= AuthStyleDefault && s <= AuthInParams }

// MarshalText returns "InHeader", "InParams" or "" for the default.
func (s AuthStyle) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("%w: authStyle %d", errUnknownName, int(s))
	}
	return []byte(s.text()), nil
}

// UnmarshalText accepts "InHeader", "InParams" and "".
func (s *AuthStyle) UnmarshalText(b []byte) error {
	for _, c := range []AuthStyle{AuthStyleDefault, AuthInHeader, AuthInParams} {
		if string(b) == c.text() {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("%w: authorization.authStyle must be InHeader or InParams", errUnknownName)
}

// oauth2 returns the x/oauth2 style, resolving the default.
func (s AuthStyle) oauth2(hasSecret bool) oauth2.AuthStyle {
	switch {
	case s == AuthInHeader, s == AuthStyleDefault && hasSecret:
		return oauth2.AuthStyleInHeader
	default:
		return oauth2.AuthStyleInParams
	}
}
