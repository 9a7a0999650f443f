package main

import (
	"regexp"
	"strings"
)

// No message of latch may hold a token, a key or a secret, whatever the
// user typed where: a token given where a file name belongs came back in
// "cannot read the token: lt_eyJ...: file name too long", a key URI in an
// unknown flag's error. redact is the last step before any error reaches
// standard error; it replaces what has the shape of a secret:
//
//   - a JOSE object (a token, with or without prefix: base64url of `{"`
//     is "eyJ") and the rest of its dotted parts;
//   - an otpauth:// key URI with its secret;
//   - a JSON document (a key set, a JWK): the message is cut before it;
//   - in the command line's arguments, every run of 16 or more base64,
//     base64url or base32 characters that looks random (letters and
//     digits, or upper and lower case: a secret, a key, a token, or a
//     temporary folder's name, a small loss): wherever 12 or more
//     characters of it show in the message.
var (
	joseRun    = regexp.MustCompile(`[A-Za-z0-9_-]*eyJ[A-Za-z0-9_.=-]*`)
	otpauthURI = regexp.MustCompile(`(?i)otpauth:/*[^\s"']*secret=[^\s"']*`)
	denseRun   = regexp.MustCompile(`[A-Za-z0-9+=_-]{16,}`)
	msgRun     = regexp.MustCompile(`[A-Za-z0-9+=_-]{12,}`)
)

const redacted = "[redacted]"

// minShown is the length from which a piece of a secret argument in a
// message is redacted.
const minShown = 12

func redact(msg string, args []string) string {
	msg = joseRun.ReplaceAllString(msg, redacted)
	msg = otpauthURI.ReplaceAllString(msg, redacted)
	var secrets []string
	for _, a := range args {
		for _, run := range denseRun.FindAllString(a, -1) {
			if secretLike(run) {
				secrets = append(secrets, run)
			}
		}
	}
	if len(secrets) > 0 {
		msg = msgRun.ReplaceAllStringFunc(msg, func(m string) string {
			for _, s := range secrets {
				for i := 0; i+minShown <= len(m); i++ {
					if strings.Contains(s, m[i:i+minShown]) {
						return redacted
					}
				}
			}
			return m
		})
	}
	if i := strings.IndexByte(msg, '{'); i >= 0 && strings.Contains(msg[i:], `":`) {
		// A JSON document (a key set, a JWK, a sealed key) in a message:
		// keep what comes before it.
		msg = msg[:i] + redacted + "\n"
	}
	return msg
}

// secretLike reports whether a run of token characters looks random:
// letters and digits, or upper and lower case letters.
func secretLike(run string) bool {
	var lower, upper, digit bool
	for i := 0; i < len(run); i++ {
		switch c := run[i]; {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return (lower || upper) && digit || lower && upper
}
