package integrator

import "golang.org/x/oauth2"

// The values of Authorization.Type.
const (
	// noAuth: no authorization of Latch's; the integrator may put an API
	// key in a custom header. The empty type means it too.
	noAuth = "NoAuth"
	// oauthAccessToken: a fixed OAuth 2.0 access token, sent as
	// "Authorization: Bearer".
	oauthAccessToken = "OAuthAccessToken"
	// oauthRefreshToken: an OAuth 2.0 refresh token that the device
	// exchanges itself for access tokens at the token endpoint.
	oauthRefreshToken = "OAuthRefreshToken"
)

// The values of Authorization.AuthStyle; the empty style is resolved by
// (*Authorization).style.
const (
	authInHeader = "InHeader"
	authInParams = "InParams"
)

// kind returns the authorization's type, NoAuth for the empty one, or ""
// if it is none of the three (the value itself is never shown).
func (a *Authorization) kind() string {
	switch a.Type {
	case "", noAuth:
		return noAuth
	case oauthAccessToken, oauthRefreshToken:
		return a.Type
	}
	return ""
}

// kindName is kind for messages and logs.
func (a *Authorization) kindName() string {
	if k := a.kind(); k != "" {
		return k
	}
	return "(unknown type)"
}

// style returns the auth style of an OAuthRefreshToken client with the
// default resolved: InHeader when there is a client secret, InParams for
// a public client without one.
func (a *Authorization) style() string {
	if a.AuthStyle == authInHeader || a.AuthStyle == "" && a.ClientSecret != "" {
		return authInHeader
	}
	return authInParams
}

// oauth2Style is the x/oauth2 form of a resolved auth style.
func oauth2Style(style string) oauth2.AuthStyle {
	if style == authInHeader {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}
