package platform_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"image/png"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/totp"
)

// consoleClient is a cookie-keeping client that does not follow redirects.
func (e *env) consoleClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := e.client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func (e *env) csrf(c *http.Client) string {
	resp, err := c.Get(e.p.URL + "/console/signin")
	require.NoError(e.t, err)
	resp.Body.Close()
	u, _ := url.Parse(e.p.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "__Host-latch_csrf" {
			return ck.Value
		}
	}
	e.t.Fatal("no CSRF cookie")
	return ""
}

// consoleForm returns a function that posts a console form with c, the
// CSRF token added, and returns the status and the page.
func (e *env) consoleForm(c *http.Client) func(path string, form url.Values) (int, string) {
	token := e.csrf(c)
	return func(path string, form url.Values) (int, string) {
		form.Set("csrf", token)
		resp, err := c.PostForm(e.p.URL+path, form)
		require.NoError(e.t, err)
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return resp.StatusCode, body.String()
	}
}

// consoleSignedUp signs a new person up in the console with c and confirms
// their key, and returns c's form poster, their email and password as a
// form, and their key.
func (e *env) consoleSignedUp(c *http.Client, email string) (func(string, url.Values) (int, string), url.Values, totp.Key) {
	page := e.consoleForm(c)
	creds := url.Values{"email": {email}, "password": {"a long enough password"}}
	_, body := page("/console/signup", creds)
	key := keyIn(e.t, body)
	code, _ := page("/console/code", url.Values{"code": {key.Code(e.clock.Now())}})
	require.Equal(e.t, http.StatusSeeOther, code)
	return page, creds, key
}

// keyIn returns the TOTP key of the otpauth URI a console page shows.
func keyIn(t *testing.T, page string) totp.Key {
	t.Helper()
	i := strings.Index(page, "otpauth://")
	require.Positive(t, i, "no key URI on the page")
	uri := page[i:]
	uri = strings.ReplaceAll(uri[:strings.Index(uri, "<")], "&amp;", "&")
	key, err := totp.ParseKeyURI(uri)
	require.NoError(t, err)
	return key
}

// A person who signed up in the console and never entered a code: once
// the key has expired, signing in with the password shows a new QR code,
// and only the new key's code signs in.
func TestConsoleRenewsExpiredEnrollment(t *testing.T) {
	e := newEnv(t)
	c := e.consoleClient()
	page := e.consoleForm(c)
	creds := url.Values{"email": {"kim@example.com"}, "password": {"a long enough password"}}
	code, body := page("/console/signup", creds)
	require.Equal(t, http.StatusOK, code)
	old := keyIn(t, body)

	e.clock.Advance(16 * time.Minute)
	code, body = page("/console/signin", creds)
	require.Equal(t, http.StatusOK, code)
	renewed := keyIn(t, body)
	require.NotEqual(t, old.URI(), renewed.URI())
	if c := old.Code(e.clock.Now()); c != renewed.Code(e.clock.Now()) {
		code, _ = page("/console/code", url.Values{"code": {c}})
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ = page("/console/code", url.Values{"code": {renewed.Code(e.clock.Now())}})
	require.Equal(t, http.StatusSeeOther, code)
}

// Recovery codes in the console: made on the home page with the password,
// shown once, and accepted on the code page of a later sign-in.
func TestConsoleRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	c := e.consoleClient()
	page, creds, _ := e.consoleSignedUp(c, "lou@example.com")
	var code int
	var body string

	code, body = page("/console/recovery-codes", url.Values{"password": {"not my password"}})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "Wrong email or password.")
	code, body = page("/console/recovery-codes", url.Values{"password": creds["password"]})
	require.Equal(t, http.StatusOK, code)
	codes := regexp.MustCompile(`<code>([0-9a-z]{4}(?:-[0-9a-z]{4}){3})</code>`).FindAllStringSubmatch(body, -1)
	require.Len(t, codes, 10)

	code, _ = page("/console/signout", url.Values{})
	require.Equal(t, http.StatusSeeOther, code)
	code, _ = page("/console/signin", creds)
	require.Equal(t, http.StatusSeeOther, code)
	resp, err := c.Get(e.p.URL + "/console/code")
	require.NoError(t, err)
	var form bytes.Buffer
	form.ReadFrom(resp.Body)
	resp.Body.Close()
	require.Contains(t, form.String(), `name="recovery"`)
	code, _ = page("/console/code", url.Values{"recovery": {codes[0][1]}})
	require.Equal(t, http.StatusSeeOther, code)
	resp, err = c.Get(e.p.ConsoleURL())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// Moving to a new authenticator app in the console: the password, then the
// new key's QR code and one of its codes; a wrong code asks again.
func TestConsoleReplaceAuthenticator(t *testing.T) {
	e := newEnv(t)
	page, creds, old := e.consoleSignedUp(e.consoleClient(), "max@example.com")
	var code int
	var body string

	code, body = page("/console/authenticator", url.Values{"password": {"not my password"}})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "Wrong email or password.")
	code, body = page("/console/authenticator", url.Values{"password": creds["password"]})
	require.Equal(t, http.StatusOK, code)
	next := keyIn(t, body)
	require.NotEqual(t, old.SecretBase32(), next.SecretBase32())

	code, body = page("/console/authenticator/confirm", url.Values{"code": {wrongFor(next, e.clock.Now())}})
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, body, `action="/console/authenticator/confirm"`)
	code, body = page("/console/authenticator/confirm", url.Values{"code": {next.Code(e.clock.Now())}})
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "the old one no longer signs in")
}

// The console's defences without a browser: headers, cookie attributes,
// and refusals of forms without the CSRF token or from another origin.
func TestConsoleDefences(t *testing.T) {
	e := newEnv(t)
	c := e.consoleClient()
	resp, err := c.Get(e.p.URL + "/console/signin")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Contains(t, csp, "frame-ancestors 'none'")
	setCookie := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"__Host-latch_csrf=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		require.Contains(t, setCookie, attr)
	}

	// Sign up and in through the console's forms.
	token := e.csrf(c)
	resp, err = c.PostForm(e.p.URL+"/console/signup", url.Values{"csrf": {token}, "email": {"jo@example.com"}, "password": {"a long enough password"}})
	require.NoError(t, err)
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	key := keyIn(t, body.String())
	resp, err = c.PostForm(e.p.URL+"/console/code", url.Values{"csrf": {token}, "code": {key.Code(e.clock.Now())}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/", resp.Header.Get("Location"))
	var sessionCookie string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "__Host-latch_session=") {
			sessionCookie = v
		}
	}
	for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		require.Contains(t, sessionCookie, attr)
	}

	post := func(form url.Values, header map[string]string) int {
		req, _ := http.NewRequest(http.MethodPost, e.p.URL+"/console/tokens", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	form := url.Values{"name": {"t"}, "scope": {"devices:read"}, "expires": {"1"}}
	require.Equal(t, http.StatusForbidden, post(form, nil), "no CSRF token")
	form.Set("csrf", strings.Repeat("A", 43))
	require.Equal(t, http.StatusForbidden, post(form, nil), "wrong CSRF token")
	form.Set("csrf", token)
	require.Equal(t, http.StatusForbidden, post(form, map[string]string{"Sec-Fetch-Site": "cross-site"}), "cross-site")
	require.Equal(t, http.StatusForbidden, post(form, map[string]string{"Origin": "https://evil.example"}), "other origin")
	require.Equal(t, http.StatusOK, post(form, map[string]string{"Sec-Fetch-Site": "same-origin"}))
	require.Contains(t, e.audit.String(), `"msg":"console form refused"`)

	// Sign out everywhere: the session and the token just made are revoked.
	var session string
	u, _ := url.Parse(e.p.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "__Host-latch_session" {
			session = ck.Value
		}
	}
	require.NotEmpty(t, session)
	phone := app.New(e.p.URL, e.p.Roots())
	require.NoError(t, phone.Do(context.Background(), http.MethodGet, "/v1/tokens", session, nil, nil))
	e.clock.Advance(time.Second)
	resp, err = c.PostForm(e.p.URL+"/console/signout-everywhere", url.Values{"csrf": {token}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/console/signin", resp.Header.Get("Location"))
	require.Equal(t, http.StatusUnauthorized, status(phone.Do(context.Background(), http.MethodGet, "/v1/tokens", session, nil, nil)))
	resp, err = c.Get(e.p.ConsoleURL())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/console/signin", resp.Header.Get("Location"))
}

// screenshot takes a full-page PNG, checks that it is not blank, and
// keeps it in dir.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(buf))
	require.NoError(t, err)
	b := img.Bounds()
	counts := map[[4]uint32]int{}
	total := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}]++
			total++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	require.Greater(t, len(counts), 8, "%s: the page looks blank", name)
	require.Less(t, float64(most)/float64(total), 0.99, "%s: the page looks blank", name)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644))
}

// The console in a real browser (Debian's chromium): sign up with the QR
// code's key, confirm with a TOTP code, create a token by ticking a scope,
// see it once, revoke it, sign out and in again with password and code; a
// forged cross-site form is refused. A
// screenshot of each page is checked to be non-blank.
func TestConsoleInChromium(t *testing.T) {
	browser := interop.Program(t, "chromium", "chromium")
	e := newEnv(t)
	shots := os.Getenv("LATCH_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	// Trust exactly the platform's certificate, by its key's hash.
	block, _ := pem.Decode(e.p.CertPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])),
		chromedp.WindowSize(1100, 900),
	)
	// The whole browser session has two minutes (it takes about 35 s
	// under -race, more on a loaded machine); a hang fails instead of
	// waiting for the test binary's timeout.
	limit, cancelLimit := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelLimit()
	actx, cancel := chromedp.NewExecAllocator(limit, opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	// Sign up: the QR code, and the key for who cannot scan.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.p.URL+"/console/signup"),
		chromedp.SendKeys("#email", "kim@example.com"),
		chromedp.SendKeys("#password", "a long enough password"),
		chromedp.Click("#create"),
		chromedp.WaitVisible("#qr"),
	))
	screenshot(t, ctx, shots, "1-enroll")
	uri, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("otpauth").textContent`))
	require.NoError(t, err)
	key, err := totp.ParseKeyURI(uri)
	require.NoError(t, err)
	complete, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("qr").complete && document.getElementById("qr").naturalWidth > 0`))
	require.NoError(t, err)
	require.True(t, complete, "the QR code image did not load (CSP?)")

	// The first code confirms the enrollment and signs in.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#code", key.Code(e.clock.Now())),
		chromedp.Click("#verify"),
		chromedp.WaitVisible("#tokens"),
	))
	screenshot(t, ctx, shots, "2-home")

	// Create a token with one scope; it is shown once.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#token-name", "dashboard"),
		chromedp.Click("#scope-devices\\:read"),
		chromedp.Click("#create-token"),
		chromedp.WaitVisible("#new-token"),
	))
	screenshot(t, ctx, shots, "3-token")
	tok, err := chromedp.Run(ctx, chromedp.Text("#new-token"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "lt_"), tok)
	phone := app.New(e.p.URL, e.p.Roots())
	require.NoError(t, phone.Do(context.Background(), http.MethodGet, "/v1/devices", tok, nil, nil))
	require.Equal(t, http.StatusForbidden, status(phone.Do(context.Background(), http.MethodPost, "/v1/devices", tok, map[string]string{"name": "x"}, nil)))

	// Revoke it: the list says so, and the API refuses it.
	rows, err := chromedp.Run(ctx, chromedp.Text("#tokens"))
	require.NoError(t, err)
	require.Contains(t, rows, "dashboard")
	require.Contains(t, rows, "devices:read")
	require.NotContains(t, rows, tok)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.p.ConsoleURL()),
		chromedp.Click(`tr[data-name="dashboard"] button.revoke`),
		chromedp.WaitVisible(`tr[data-name="dashboard"] .revoked`),
	))
	screenshot(t, ctx, shots, "4-revoked")
	require.Equal(t, http.StatusUnauthorized, status(phone.Do(context.Background(), http.MethodGet, "/v1/devices", tok, nil, nil)))

	// Sign out, and in again: password, then a code of a later time step
	// (the first one was used, and a code is accepted once).
	e.clock.Advance(30 * time.Second)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click("#signout"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "kim@example.com"),
		chromedp.SendKeys("#password", "a long enough password"),
		chromedp.Click("#next"),
		chromedp.WaitVisible("#code"),
	))
	screenshot(t, ctx, shots, "5-code")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#code", key.Code(e.clock.Now())),
		chromedp.Click("#verify"),
		chromedp.WaitVisible("#tokens"),
	))

	// A forged form on another site, posted by the signed-in browser.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>win a prize</title>
<form id="f" method="post" action="%s/console/tokens">
<input name="csrf" value="guessed"><input name="name" value="stolen"><input name="scope" value="tokens:manage"><input name="expires" value="365">
</form><script>document.getElementById("f").submit()</script>`, e.p.URL)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(evilURL),
		chromedp.WaitVisible("body"),
	))
	// Wait for the forged post to be answered, then look at the account.
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`location.href.indexOf("/console/tokens") >= 0 && document.readyState === "complete"`))
	require.NoError(t, err)
	refused, err := chromedp.Run(ctx, chromedp.Text("body"))
	require.NoError(t, err)
	require.Contains(t, refused, "Forbidden")
	screenshot(t, ctx, shots, "6-forged-refused")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.p.ConsoleURL()), chromedp.WaitVisible("#tokens")))
	rows, err = chromedp.Run(ctx, chromedp.Text("#tokens"))
	require.NoError(t, err)
	require.NotContains(t, rows, "stolen")

	// Recovery codes, shown once; one signs in on "Lost your phone?".
	// Ten minutes after signing in, the password alone is refused: a code
	// of the app is asked for too.
	e.clock.Advance(11 * time.Minute)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#recovery-password", "a long enough password"),
		chromedp.Click("#make-recovery-codes"),
		chromedp.WaitVisible(".error"),
	))
	refusal, err := chromedp.Run(ctx, chromedp.Text(".error"))
	require.NoError(t, err)
	require.Contains(t, refusal, "Type a code from your authenticator app too.")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#recovery-password", "a long enough password"),
		chromedp.SendKeys("#recovery-code", key.Code(e.clock.Now())),
		chromedp.Click("#make-recovery-codes"),
		chromedp.WaitVisible("#recovery-codes"),
	))
	screenshot(t, ctx, shots, "7-recovery-codes")
	recovery, err := chromedp.Run(ctx, chromedp.Text("#recovery-codes li:first-child code"))
	require.NoError(t, err)
	require.Len(t, recovery, 19, recovery)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click("#signout"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "kim@example.com"),
		chromedp.SendKeys("#password", "a long enough password"),
		chromedp.Click("#next"),
		chromedp.WaitVisible("#code"),
		chromedp.Click("details summary"),
		chromedp.WaitVisible("#recovery"),
		chromedp.SendKeys("#recovery", recovery),
		chromedp.Click("#use-recovery"),
		chromedp.WaitVisible("#tokens"),
	))

	// A new authenticator app, just after signing in with a recovery code
	// (so no code of the old app): the password, the new QR code, a code
	// of the new key.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#reenroll-password", "a long enough password"),
		chromedp.Click("#reenroll"),
		chromedp.WaitVisible("#qr"),
	))
	screenshot(t, ctx, shots, "8-new-app")
	uri, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("otpauth").textContent`))
	require.NoError(t, err)
	next, err := totp.ParseKeyURI(uri)
	require.NoError(t, err)
	require.NotEqual(t, key.SecretBase32(), next.SecretBase32())
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#code", next.Code(e.clock.Now())),
		chromedp.Click("#confirm-reenroll"),
		chromedp.WaitVisible("#notice"),
	))
	screenshot(t, ctx, shots, "9-new-app-set")
}
