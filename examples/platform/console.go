package platform

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/token"
)

// The web console: plain HTML from html/template and one small script, no
// build step. Its defences:
//
//   - Cookies are __Host- prefixed (Secure, Path=/, no Domain, so no other
//     host or subdomain can set them), HttpOnly (no script reads the
//     session) and SameSite=Strict (no cross-site request carries them).
//   - Every state-changing request passes net/http's CrossOriginProtection
//     (Sec-Fetch-Site and Origin) and carries a CSRF token equal to the
//     __Host-latch_csrf cookie, compared in constant time.
//   - A strict Content-Security-Policy: scripts and styles from this origin
//     only, no inline script, forms post only here, no framing.
//   - The session cookie holds the session token, verified by the token
//     package on every request like any API token; signing out revokes it.

//go:embed web
var webFS embed.FS

var pages = template.Must(template.ParseFS(webFS, "web/console.html"))

const (
	cookieSession   = "__Host-latch_session"
	cookieChallenge = "__Host-latch_challenge"
	cookieCSRF      = "__Host-latch_csrf"
	csp             = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

// page is what every template gets.
type page struct {
	Title        string
	Error        string
	CSRF         string
	Signed       bool
	QR           template.URL
	OTPAuth      string
	NewToken     *newToken
	NewCodes     []string // recovery codes, shown once
	Notice       string
	Tokens       []api.TokenInfo
	Scopes       []string
	Integrations []integrationSummary
	Devices      []api.Device
}

type newToken struct{ Name, Token string }

type integrationSummary struct {
	ID, Integrator string
	Requests       int
}

// console is the web console: its pages act through the services the API
// routes use.
type console struct {
	base
	tokens       *tokens
	accounts     *accounts
	secondFactor *secondFactor
	integrations *integrations
	devices      *devices
}

func (cs *console) routes(mux *http.ServeMux) {
	// Only web/static is served: the page templates stay out of reach,
	// and so does a directory listing.
	static, _ := fs.Sub(webFS, "web/static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(static))
	mux.Handle("GET /console/static/{file}", files)
	mux.HandleFunc("GET /console/{$}", cs.home)
	mux.HandleFunc("GET /console/signin", cs.form("signin", "Sign in"))
	mux.HandleFunc("GET /console/signup", cs.form("signup", "Sign up"))
	mux.HandleFunc("GET /console/code", cs.form("code", "Your code"))
	protect := http.NewCrossOriginProtection()
	protect.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.audit.Warn("console form refused", "path", r.URL.Path, "reason", "cross-origin")
		cs.render(w, r, "refused", http.StatusForbidden, page{Title: "Request refused"})
	}))
	post := func(pattern string, h http.HandlerFunc) {
		mux.Handle("POST "+pattern, protect.Handler(cs.checkCSRF(h)))
	}
	post("/console/signin", cs.signIn)
	post("/console/signup", cs.signUp)
	post("/console/code", cs.code)
	post("/console/tokens", cs.createToken)
	post("/console/recovery-codes", cs.recoveryCodes)
	post("/console/authenticator", cs.reenroll)
	post("/console/authenticator/confirm", cs.confirmReenroll)
	post("/console/tokens/{id}/revoke", cs.revoke)
	post("/console/signout", cs.signOut)
	post("/console/signout-everywhere", cs.signOutEverywhere)
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusSeeOther))
}

// ConsoleURL is the address of the web console.
func (p *Platform) ConsoleURL() string { return p.URL + "/console/" }

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// csrfToken returns the request's CSRF token, setting the cookie if there
// is none yet.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cookieCSRF); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	setCookie(w, cookieCSRF, v, 24*time.Hour)
	return v
}

// checkCSRF refuses a form whose csrf field is not the cookie's value.
func (cs *console) checkCSRF(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		c, err := r.Cookie(cookieCSRF)
		if err != nil || len(c.Value) != 43 || r.ParseForm() != nil ||
			subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
			cs.audit.Warn("console form refused", "path", r.URL.Path, "reason", "csrf")
			cs.render(w, r, "refused", http.StatusForbidden, page{Title: "Request refused"})
			return
		}
		h(w, r)
	}
}

func (cs *console) render(w http.ResponseWriter, r *http.Request, name string, status int, pg page) {
	pg.CSRF = csrfToken(w, r)
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, pg); err != nil {
		cs.audit.Error("console template", "err", err.Error())
	}
}

func (cs *console) form(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cs.render(w, r, name, http.StatusOK, page{Title: title})
	}
}

// session returns the claims of the console's session cookie.
func (cs *console) session(r *http.Request) (*token.Claims, string, bool) {
	c, err := r.Cookie(cookieSession)
	if err != nil {
		return nil, "", false
	}
	claims, err := cs.tokens.verifier.Verify(r.Context(), c.Value)
	if err != nil || !claims.HasScope(api.ScopeTokensManage) {
		return nil, "", false
	}
	return claims, c.Value, true
}

// signedIn returns the claims of the console's session, or sends the
// browser to the sign-in page and returns false.
func (cs *console) signedIn(w http.ResponseWriter, r *http.Request) (*token.Claims, bool) {
	c, _, ok := cs.session(r)
	if !ok {
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	}
	return c, ok
}

func userWords(err error) (string, bool) {
	var ue *userError
	if errors.As(err, &ue) {
		return ue.words, true
	}
	return "", false
}

// refusalStatus is the status of a page refusing a form with err: 429 or
// 503 as the API says them (with Retry-After), else status.
func refusalStatus(w http.ResponseWriter, err error, status int) int {
	var ue *userError
	if errors.As(err, &ue) && (ue.status == http.StatusTooManyRequests || ue.status == http.StatusServiceUnavailable) {
		setRetryAfter(w, err)
		return ue.status
	}
	return status
}

func (cs *console) signUp(w http.ResponseWriter, r *http.Request) {
	resp, err := cs.accounts.createUser(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"))
	if words, ok := userWords(err); ok {
		cs.render(w, r, "signup", refusalStatus(w, err, http.StatusBadRequest), page{Title: "Sign up", Error: words})
		return
	}
	if err != nil {
		cs.internalError(w, r, err)
		return
	}
	// The password was just set: the first code confirms the enrollment
	// and signs in.
	id, err := cs.accounts.newChallenge(resp.UserID)
	if err != nil {
		cs.internalError(w, r, err)
		return
	}
	setCookie(w, cookieChallenge, id, challengeTTL)
	cs.render(w, r, "code", http.StatusOK, page{Title: "Set up your authenticator app",
		QR: qrURL(resp.QRCodePNG), OTPAuth: resp.OTPAuthURI})
}

func (cs *console) signIn(w http.ResponseWriter, r *http.Request) {
	resp, err := cs.accounts.checkPasswordStep(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"))
	if words, ok := userWords(err); ok {
		cs.render(w, r, "signin", refusalStatus(w, err, http.StatusUnauthorized), page{Title: "Sign in", Error: words})
		return
	}
	if err != nil {
		cs.internalError(w, r, err)
		return
	}
	setCookie(w, cookieChallenge, resp.Challenge, challengeTTL)
	if e := resp.Enroll; e != nil {
		// The key from sign-up expired unconfirmed: show the new one.
		cs.render(w, r, "code", http.StatusOK, page{Title: "Set up your authenticator app again",
			QR: qrURL(e.QRCodePNG), OTPAuth: e.OTPAuthURI})
		return
	}
	http.Redirect(w, r, "/console/code", http.StatusSeeOther)
}

func (cs *console) code(w http.ResponseWriter, r *http.Request) {
	ch, err := r.Cookie(cookieChallenge)
	if err != nil {
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
		return
	}
	recovery := r.PostForm.Get("recovery") != ""
	code := r.PostForm.Get("code")
	if recovery {
		code = r.PostForm.Get("recovery")
	}
	s, err := cs.accounts.checkCodeStep(r.Context(), ch.Value, code, recovery)
	if errors.Is(err, errChallenge) {
		clearCookie(w, cookieChallenge)
		cs.render(w, r, "signin", http.StatusUnauthorized, page{Title: "Sign in", Error: err.Error()})
		return
	}
	if words, ok := userWords(err); ok {
		cs.render(w, r, "code", http.StatusUnauthorized, page{Title: "Your code", Error: words})
		return
	}
	if err != nil {
		cs.internalError(w, r, err)
		return
	}
	clearCookie(w, cookieChallenge)
	setCookie(w, cookieSession, s.Token, s.Expires.Sub(cs.now()))
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (cs *console) home(w http.ResponseWriter, r *http.Request) {
	c, ok := cs.signedIn(w, r)
	if !ok {
		return
	}
	cs.renderHome(w, r, c, nil, "")
}

func (cs *console) renderHome(w http.ResponseWriter, r *http.Request, c *token.Claims, nt *newToken, problem string) {
	cs.renderHomePage(w, r, c, page{NewToken: nt, Error: problem})
}

// renderHomePage renders the home page with what pg holds (a new token,
// new recovery codes, an error) and the person's tokens, integrations and
// devices.
func (cs *console) renderHomePage(w http.ResponseWriter, r *http.Request, c *token.Claims, pg page) {
	ctx := r.Context()
	problem := pg.Error
	pg.Title, pg.Signed, pg.Scopes = "Your account", true, PersonScopes
	var err error
	if pg.Tokens, err = cs.tokens.list(ctx, c.Subject); err == nil {
		if pg.Integrations, err = cs.integrations.summaries(ctx, c.Subject); err == nil {
			pg.Devices, err = cs.devices.list(ctx, c.Subject)
		}
	}
	if err != nil {
		cs.internalError(w, r, err)
		return
	}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	}
	cs.render(w, r, "home", status, pg)
}

// homeFailed answers a home-page form whose action failed with err: the
// home page with the words for the person, or an internal error. It
// returns false, answering nothing, if err is nil.
func (cs *console) homeFailed(w http.ResponseWriter, r *http.Request, c *token.Claims, err error) bool {
	if err == nil {
		return false
	}
	if words, ok := userWords(err); ok {
		cs.renderHome(w, r, c, nil, words)
	} else {
		cs.internalError(w, r, err)
	}
	return true
}

// qrURL is a QR code PNG as an image URL for a page (the CSP allows data:
// images).
func qrURL(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

func (cs *console) createToken(w http.ResponseWriter, r *http.Request) {
	c, ok := cs.signedIn(w, r)
	if !ok {
		return
	}
	days, _ := strconv.Atoi(r.PostForm.Get("expires"))
	resp, err := cs.tokens.createFor(r.Context(), c, api.CreateTokenRequest{
		Name: r.PostForm.Get("name"), Scopes: r.PostForm["scope"], ExpiresIn: int64(days) * 24 * 3600,
	})
	if cs.homeFailed(w, r, c, err) {
		return
	}
	// Shown in this answer only (Cache-Control: no-store), never again.
	cs.renderHome(w, r, c, &newToken{Name: r.PostForm.Get("name"), Token: resp.Token}, "")
}

// recoveryCodes makes a new set of recovery codes, after the
// password and a code (none needed within stepUpWindow of signing in), and
// shows them in this answer only.
func (cs *console) recoveryCodes(w http.ResponseWriter, r *http.Request) {
	c, ok := cs.signedIn(w, r)
	if !ok {
		return
	}
	codes, err := cs.secondFactor.newRecoveryCodes(r.Context(), c, r.PostForm.Get("password"), r.PostForm.Get("code"))
	if cs.homeFailed(w, r, c, err) {
		return
	}
	cs.renderHomePage(w, r, c, page{NewCodes: codes})
}

// reenroll starts replacing the authenticator app, after the
// password and a code of the current app (none needed within stepUpWindow
// of signing in, with that app or a recovery code): it shows the new key
// and asks for one of its codes.
func (cs *console) reenroll(w http.ResponseWriter, r *http.Request) {
	c, ok := cs.signedIn(w, r)
	if !ok {
		return
	}
	resp, err := cs.secondFactor.reenroll(r.Context(), c, r.PostForm.Get("password"), r.PostForm.Get("code"))
	if cs.homeFailed(w, r, c, err) {
		return
	}
	cs.render(w, r, "reenroll", http.StatusOK, page{Title: "Set up your new authenticator app", Signed: true,
		QR: qrURL(resp.QRCodePNG), OTPAuth: resp.OTPAuthURI})
}

// confirmReenroll completes the replacement with a code of the new
// key; a refused code asks again (the new key waits until it expires).
func (cs *console) confirmReenroll(w http.ResponseWriter, r *http.Request) {
	c, ok := cs.signedIn(w, r)
	if !ok {
		return
	}
	err := cs.secondFactor.confirmReenroll(r.Context(), c.Subject, r.PostForm.Get("code"))
	if words, ok := userWords(err); ok {
		cs.render(w, r, "reenroll", http.StatusUnauthorized, page{Title: "Set up your new authenticator app", Signed: true, Error: words})
		return
	}
	if err != nil {
		cs.internalError(w, r, err)
		return
	}
	cs.renderHomePage(w, r, c, page{Notice: "Your new authenticator app is set up; the old one no longer signs in."})
}

func (cs *console) revoke(w http.ResponseWriter, r *http.Request) {
	c, ok := cs.signedIn(w, r)
	if !ok {
		return
	}
	if cs.homeFailed(w, r, c, cs.tokens.revoke(r.Context(), c, r.PathValue("id"))) {
		return
	}
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (cs *console) signOut(w http.ResponseWriter, r *http.Request) {
	if c, _, ok := cs.session(r); ok {
		if err := cs.tokens.revoke(r.Context(), c, c.ID); err != nil {
			cs.internalError(w, r, err)
			return
		}
	}
	clearCookie(w, cookieSession)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// signOutEverywhere revokes every token of the person issued until
// now: sessions on other browsers, API tokens, tokens narrowed from them.
func (cs *console) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	if c, _, ok := cs.session(r); ok {
		if err := cs.tokens.revokeSubject(r.Context(), c.Subject, cs.now()); err != nil {
			cs.internalError(w, r, err)
			return
		}
		cs.audit.Info("signed out everywhere", "subject", c.Subject, "by_token", c.ID)
	}
	clearCookie(w, cookieSession)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}
