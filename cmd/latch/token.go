package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/latchsec/latch/token"
)

func init() {
	commands = append(commands, tokenKeygenCommand, tokenRotateCommand, tokenIssueCommand,
		tokenInspectCommand, tokenVerifyCommand, tokenRevokeCommand)
}

// tokenFlags are the flags that say which tokens a command deals with.
type tokenFlags struct {
	keys, prefix, issuer, audience string
}

func (f *tokenFlags) define(fs *flag.FlagSet, issuerAudience bool) {
	fs.StringVar(&f.keys, "keys", "", "the JWK Set `FILE` of token keys (required)")
	fs.StringVar(&f.prefix, "prefix", "", "the `PREFIX` written before every token, such as lt_ (the token.Config's Prefix)")
	if issuerAudience {
		fs.StringVar(&f.issuer, "issuer", "", "the issuer `NAME` (iss), such as https://platform.example (required)")
		fs.StringVar(&f.audience, "audience", "", "the `SERVICE` the tokens are for (aud) (required)")
	}
}

func (f *tokenFlags) check(issuerAudience bool) error {
	switch {
	case f.keys == "":
		return usagef("--keys is required")
	case issuerAudience && f.issuer == "":
		return usagef("--issuer is required")
	case issuerAudience && f.audience == "":
		return usagef("--audience is required")
	}
	return nil
}

// config is the token.Config of the flags, with keys, revocations (nil when
// there is no list) and a clock fixed at now.
func (f *tokenFlags) config(keys *token.Keyring, revs token.Revocations, now time.Time) token.Config {
	return token.Config{Keys: keys, Issuer: f.issuer, Audience: f.audience, Prefix: f.prefix,
		Revocations: revs, Now: func() time.Time { return now }}
}

// loadKeys reads the keyring. Its errors never hold key material (those of
// token.ParseKeyring do not).
func (f *tokenFlags) loadKeys(e *env) (*token.Keyring, error) {
	b, err := e.readInput(f.keys, "the key set")
	if err != nil {
		return nil, err
	}
	kr, err := token.ParseKeyring(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.keys, err)
	}
	return kr, nil
}

type keysReport struct {
	File   string   `json:"file"`
	Active string   `json:"active"`
	KeyIDs []string `json:"keyIds"`
}

func printKeys(e *env, file string, kr *token.Keyring, jsonOut bool, what string) error {
	if jsonOut {
		return e.printJSON(keysReport{File: file, Active: kr.ActiveKeyID(), KeyIDs: kr.KeyIDs()})
	}
	fmt.Fprintf(e.stdout, "%s %s: active key %s", what, file, kr.ActiveKeyID())
	if ids := kr.KeyIDs()[1:]; len(ids) > 0 {
		fmt.Fprintf(e.stdout, "; verify-only: %s", strings.Join(ids, ", "))
	}
	fmt.Fprintln(e.stdout)
	return nil
}

var tokenKeygenCommand = &command{
	name:    "token keygen",
	args:    "",
	summary: "make a new JWK Set file with one token key (mode 0600, never overwritten)",
	detail: `The file holds secret keys: whoever has it can mint tokens with any
claims. Keep it in a secret store and give it only to the servers that
verify tokens. Only key ids are ever printed.`,
	example: `latch token keygen --keys keys.json`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		keys := fs.String("keys", "", "the JWK Set `FILE` to create (required)")
		jsonOut := fs.Bool("json", false, "print the key ids as JSON")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if *keys == "" {
				return usagef("--keys is required")
			}
			kr := token.NewKeyring()
			b, err := kr.JWKSet()
			if err != nil {
				return err
			}
			if err := writeNewFile(*keys, append(b, '\n'), 0o600); err != nil {
				return err
			}
			return printKeys(e, *keys, kr, *jsonOut, "wrote")
		}
	},
}

var tokenRotateCommand = &command{
	name:    "token rotate",
	args:    "",
	summary: "add a new active key to a JWK Set file, or retire an old one",
	detail: `Without --retire, makes a new active key; the previous active key stays
to verify the tokens issued under it. With --retire, removes the
verify-only key KID instead: its tokens stop verifying. The file is
replaced atomically and keeps its permissions.`,
	example: `latch token rotate --keys keys.json
latch token rotate --keys keys.json --retire 3q2-7wEAAAAAAAAA`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var tf tokenFlags
		fs.StringVar(&tf.keys, "keys", "", "the JWK Set `FILE` (required)")
		retire := fs.String("retire", "", "retire the verify-only key `KID` instead of rotating")
		jsonOut := fs.Bool("json", false, "print the key ids as JSON")
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if err := tf.check(false); err != nil {
				return err
			}
			kr, err := tf.loadKeys(e)
			if err != nil {
				return err
			}
			what := "rotated"
			if *retire != "" {
				if err := kr.Retire(*retire); err != nil {
					return err
				}
				what = "retired " + *retire + " from"
			} else if _, err := kr.Rotate(); err != nil {
				return err
			}
			b, err := kr.JWKSet()
			if err != nil {
				return err
			}
			if err := replaceFile(tf.keys, append(b, '\n')); err != nil {
				return err
			}
			return printKeys(e, tf.keys, kr, *jsonOut, what)
		}
	},
}

// parseExpiry reads --expires: a Go duration ("72h", "90m") or whole days
// ("30d").
func parseExpiry(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 && n <= 3650 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, usagef("--expires %q: want a duration such as 90m, 72h or 30d", s)
}

// span writes a duration for people: days when it is two days or more.
func span(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.Round(time.Second).String()
}

// claimsJSON is how inspect, verify and issue show claims.
type claimsJSON struct {
	KeyID     string    `json:"kid,omitempty"`
	Issuer    string    `json:"iss"`
	Subject   string    `json:"sub"`
	Audience  string    `json:"aud"`
	IssuedAt  time.Time `json:"iat"`
	NotBefore time.Time `json:"nbf"`
	Expires   time.Time `json:"exp,omitzero"`
	ID        string    `json:"jti"`
	Scopes    []string  `json:"scope"`
	Apps      []string  `json:"app,omitempty"`
	Lineage   []string  `json:"lineage,omitempty"`
}

func toJSON(c *token.Claims, kid string) claimsJSON {
	return claimsJSON{kid, c.Issuer, c.Subject, c.Audience, c.IssuedAt.UTC(), c.NotBefore.UTC(),
		c.Expires.UTC(), c.ID, c.Scopes, c.Apps, c.Lineage}
}

func printClaims(e *env, c *token.Claims, kid string, t time.Time) {
	w := e.stdout
	if kid != "" {
		fmt.Fprintf(w, "key id:     %s\n", kid)
	}
	fmt.Fprintf(w, "issuer:     %s\n", c.Issuer)
	fmt.Fprintf(w, "subject:    %s\n", c.Subject)
	fmt.Fprintf(w, "audience:   %s\n", c.Audience)
	fmt.Fprintf(w, "id:         %s\n", c.ID)
	fmt.Fprintf(w, "scopes:     %s\n", strings.Join(c.Scopes, " "))
	apps := "any"
	if len(c.Apps) > 0 {
		apps = strings.Join(c.Apps, " ")
	}
	fmt.Fprintf(w, "apps:       %s\n", apps)
	fmt.Fprintf(w, "issued at:  %s\n", c.IssuedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "not before: %s\n", c.NotBefore.UTC().Format(time.RFC3339))
	switch {
	case c.Expires.IsZero():
		fmt.Fprintf(w, "expires:    never (only revocation ends it)\n")
	case !t.Before(c.Expires):
		fmt.Fprintf(w, "expires:    %s (expired %s ago)\n", c.Expires.UTC().Format(time.RFC3339), span(t.Sub(c.Expires)))
	default:
		fmt.Fprintf(w, "expires:    %s (in %s)\n", c.Expires.UTC().Format(time.RFC3339), span(c.Expires.Sub(t)))
	}
	if len(c.Lineage) > 0 {
		fmt.Fprintf(w, "narrowed from: %s\n", strings.Join(c.Lineage, " "))
	}
}

var tokenIssueCommand = &command{
	name:    "token issue",
	args:    "",
	summary: "issue a token under the active key and print it",
	detail: `Prints the token on standard output; it is a bearer credential, so send it
only to its owner. Choose an expiry with --expires, or ask for a token that
never expires with --no-expiry (revocation is then its only off switch).`,
	example: `latch token issue --keys keys.json --issuer https://platform.example --audience api \
    --prefix lt_ --subject user-42 --scope data:read,devices:manage --app app-1 --expires 30d > token.txt`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var tf tokenFlags
		tf.define(fs, true)
		subject := fs.String("subject", "", "whose token it is (sub): a user or integrator `ID` (required)")
		var scopes, apps listFlag
		fs.Var(&scopes, "scope", "a `SCOPE` the token grants, resource:action; repeat or separate with commas (required)")
		fs.Var(&apps, "app", "limit the token to application `ID`; repeat or separate with commas (default: any application)")
		expires := fs.String("expires", "", "the token expires after `DURATION`, such as 90m, 72h or 30d")
		noExpiry := fs.Bool("no-expiry", false, "issue a token that never expires")
		jsonOut := fs.Bool("json", false, "print the token and its claims as JSON")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 0); err != nil {
				return err
			}
			if err := tf.check(true); err != nil {
				return err
			}
			switch {
			case *subject == "":
				return usagef("--subject is required")
			case len(scopes) == 0:
				return usagef("--scope is required")
			case *expires == "" && !*noExpiry:
				return usagef("choose --expires DURATION or --no-expiry")
			case *expires != "" && *noExpiry:
				return usagef("--expires and --no-expiry exclude each other")
			}
			t, err := clock.now()
			if err != nil {
				return err
			}
			c := token.Claims{Subject: *subject, Scopes: scopes, Apps: apps, NeverExpires: *noExpiry}
			if *expires != "" {
				d, err := parseExpiry(*expires)
				if err != nil {
					return err
				}
				c.Expires = t.Add(d)
			}
			kr, err := tf.loadKeys(e)
			if err != nil {
				return err
			}
			is := &token.Issuer{Config: tf.config(kr, nil, t)}
			tok, claims, err := is.Issue(context.Background(), c)
			if err != nil {
				return err
			}
			if !*jsonOut {
				_, err = fmt.Fprintln(e.stdout, tok)
				return err
			}
			return e.printJSON(struct {
				Token  string     `json:"token"`
				Claims claimsJSON `json:"claims"`
			}{tok, toJSON(claims, kr.ActiveKeyID())})
		}
	},
}

var tokenInspectCommand = &command{
	name:    "token inspect",
	args:    "[TOKEN-FILE|-]",
	summary: "decrypt a token with the key set and show its claims, without judging it",
	detail: `Reads the token from a file, or from standard input (the default), so
that it never lands in shell history. Shows the claims whatever the
issuer, audience, time or revocation; use latch token verify to judge a
token. Never prints key material.`,
	example: `latch token inspect --keys keys.json --prefix lt_ token.txt
pbpaste | latch token inspect --keys keys.json --prefix lt_ --json`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var tf tokenFlags
		tf.define(fs, false)
		jsonOut := fs.Bool("json", false, "print the claims as JSON")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 1); err != nil {
				return err
			}
			if err := tf.check(false); err != nil {
				return err
			}
			t, err := clock.now()
			if err != nil {
				return err
			}
			tok, kr, err := readToken(e, &tf, args)
			if err != nil {
				return err
			}
			c, kid, err := (&token.Config{Keys: kr, Prefix: tf.prefix}).Inspect(tok)
			if err != nil {
				return tokenError(err, tf.prefix)
			}
			if *jsonOut {
				return e.printJSON(toJSON(c, kid))
			}
			printClaims(e, c, kid, t)
			return nil
		}
	},
}

// readToken reads the token from the file args[0] or standard input, and
// the keyring.
func readToken(e *env, tf *tokenFlags, args []string) (string, *token.Keyring, error) {
	name := "-"
	if len(args) == 1 {
		name = args[0]
	}
	tok, err := e.readSecretLine(name, "the token")
	if err != nil {
		return "", nil, err
	}
	kr, err := tf.loadKeys(e)
	if err != nil {
		return "", nil, err
	}
	return tok, kr, nil
}

// tokenError adds a hint to a malformed token when a prefix may be the
// cause.
func tokenError(err error, prefix string) error {
	if errors.Is(err, token.ErrMalformed) && prefix == "" {
		if strings.Contains(err.Error(), "Config.Prefix") {
			return fmt.Errorf("%w: the token starts with a prefix such as lt_: pass --prefix", token.ErrMalformed)
		}
		return fmt.Errorf("%w (if the token starts with a prefix such as lt_, pass --prefix)", err)
	}
	return err
}

var tokenVerifyCommand = &command{
	name:    "token verify",
	args:    "[TOKEN-FILE|-]",
	summary: "check a token as a server would: key, issuer, audience, time, revocation, scopes",
	detail: `Verifies the token with token.Verifier and, when asked, checks that it
grants every --scope and may be used for --app. Prints the claims and exits
0 if it is accepted; prints the reason and exits 1 if not. The reason is
for you: a server tells a client no more than "invalid token". A revocation
list is required (--revocations or --redis), as a server has one; to check
a token without it, say --no-revocation-check.`,
	example: `latch token verify --keys keys.json --issuer https://platform.example --audience api \
    --prefix lt_ --revocations revoked.json --scope data:read token.txt`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var tf tokenFlags
		tf.define(fs, true)
		var rf revocationFlags
		rf.define(fs)
		noRevCheck := fs.Bool("no-revocation-check", false, "verify without a revocation list (a revoked token passes); says \"revocation not checked\" on standard error")
		var scopes listFlag
		fs.Var(&scopes, "scope", "require `SCOPE`; repeat or separate with commas")
		app := fs.String("app", "", "require that the token may be used for application `ID`")
		jsonOut := fs.Bool("json", false, "print the claims as JSON")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 1); err != nil {
				return err
			}
			if err := tf.check(true); err != nil {
				return err
			}
			switch source := rf.file != "" || rf.redisURL != ""; {
			case *noRevCheck && source:
				return usagef("--no-revocation-check and --revocations or --redis exclude each other")
			case !*noRevCheck && !source && rf.redisPasswordFile == "" && rf.redisPrefix == "":
				return usagef("a revoked token would pass: give --revocations FILE or --redis URL, or --no-revocation-check")
			}
			t, err := clock.now()
			if err != nil {
				return err
			}
			tok, kr, err := readToken(e, &tf, args)
			if err != nil {
				return err
			}
			revs, err := rf.open(e, t, true, false)
			if err != nil {
				return err
			}
			v := &token.Verifier{Config: tf.config(kr, revs, t)}
			c, err := v.Verify(context.Background(), tok)
			if derr := revs.done(); derr != nil && err == nil {
				return derr
			}
			if err != nil {
				return fmt.Errorf("refused: %w", tokenError(err, tf.prefix))
			}
			for _, s := range scopes {
				if !c.HasScope(s) {
					return fmt.Errorf("refused: the token does not grant %s (it grants %s)", s, strings.Join(c.Scopes, " "))
				}
			}
			if *app != "" {
				if err := c.CheckApp(*app); err != nil {
					return fmt.Errorf("refused: the token is limited to %s, not %s", strings.Join(c.Apps, " "), *app)
				}
			}
			if *noRevCheck {
				fmt.Fprintf(e.stderr, "latch %s: revocation not checked (--no-revocation-check)\n", e.cmd.name)
			}
			if *jsonOut {
				return e.printJSON(toJSON(c, ""))
			}
			fmt.Fprintln(e.stdout, "valid")
			printClaims(e, c, "", t)
			return nil
		}
	},
}

var tokenRevokeCommand = &command{
	name:    "token revoke",
	args:    "[TOKEN-FILE|-]",
	summary: "revoke a token, a token id, or a subject's tokens, in a list file or the fleet's Redis",
	detail: `Adds to a revocation list: the fleet's, in Redis (--redis, the list
that token/redisrevoke keeps and every server mirrors), or a file
(--revocations, created if missing) that latch token verify reads. Three
ways:
  a token (from a file or standard input, decrypted with --keys): revoked
    by its id until it expires, with every token narrowed from it;
  --id JTI: the token with that id, kept for ever (its expiry is unknown);
  --subject SUB: every token of SUB issued up to now, this second
    included (or up to --before, its second included).
A list holds token ids, subjects and times, never tokens.`,
	example: `latch token revoke --redis redis://redis.internal:6379/0 --redis-password-file redis.pass --keys keys.json --prefix lt_ token.txt
latch token revoke --revocations revoked.json --subject user-42`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var tf tokenFlags
		fs.StringVar(&tf.keys, "keys", "", "the JWK Set `FILE`, to decrypt a token given whole")
		fs.StringVar(&tf.prefix, "prefix", "", "the `PREFIX` written before every token, such as lt_")
		var rf revocationFlags
		rf.define(fs)
		id := fs.String("id", "", "revoke the token with id `JTI`")
		subject := fs.String("subject", "", "revoke every token of subject `SUB` issued before --before")
		before := fs.String("before", "", "with --subject: revoke tokens issued before `TIME`, its second included (RFC 3339; default now)")
		clock := nowFlag(fs)
		return func(e *env, args []string) error {
			if err := nargs(args, 0, 1); err != nil {
				return err
			}
			modes := 0
			for _, on := range []bool{*id != "", *subject != "", *id == "" && *subject == ""} {
				if on {
					modes++
				}
			}
			if modes != 1 || (len(args) == 1 && (*id != "" || *subject != "")) {
				return usagef("give a token, --id or --subject: one of them")
			}
			if *before != "" && *subject == "" {
				return usagef("--before goes with --subject")
			}
			t, err := clock.now()
			if err != nil {
				return err
			}
			if *subject == "" && *id == "" && tf.keys == "" {
				return usagef("--keys is required to revoke a token given whole")
			}
			revs, err := rf.open(e, t, false, true)
			if err != nil {
				return err
			}
			ctx := context.Background()
			var msg string
			switch {
			case *subject != "":
				// By default every token issued so far; the package
				// revokes those of the current second too (tokens carry
				// whole seconds).
				at := t
				if *before != "" {
					if at, err = time.Parse(time.RFC3339, *before); err != nil {
						return usagef("--before: not an RFC 3339 time")
					}
				}
				if err := revs.RevokeSubject(ctx, *subject, at); err != nil {
					return err
				}
				msg = fmt.Sprintf("revoked the tokens of %s issued before %s", *subject, at.UTC().Format(time.RFC3339))
			case *id != "":
				if err := revs.RevokeID(ctx, *id, time.Time{}); err != nil {
					return err
				}
				msg = fmt.Sprintf("revoked token %s for ever", *id)
			default:
				tok, kr, err := readToken(e, &tf, args)
				if err != nil {
					return err
				}
				c, _, err := (&token.Config{Keys: kr, Prefix: tf.prefix}).Inspect(tok)
				if err != nil {
					return tokenError(err, tf.prefix)
				}
				if err := revs.RevokeID(ctx, c.ID, c.Expires); err != nil {
					return err
				}
				until := "for ever (it never expires)"
				if !c.Expires.IsZero() {
					until = "until it expires at " + c.Expires.UTC().Format(time.RFC3339)
				}
				msg = fmt.Sprintf("revoked token %s of %s %s", c.ID, c.Subject, until)
			}
			if err := revs.done(); err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, msg)
			return err
		}
	},
}
