package strictjson

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reasons a document is refused; an *Error wraps one of them (test with
// errors.Is).
var (
	// ErrSyntax: not RFC 8259 JSON, not valid UTF-8, or a lone surrogate
	// in a \u escape.
	ErrSyntax = errors.New("strictjson: not valid JSON")
	// ErrDuplicate: an object holds two members of the same name (compared
	// after unescaping; for an object read into a struct, in any case:
	// "url" and "URL" are the same member).
	ErrDuplicate = errors.New("strictjson: duplicate member")
	// ErrUnknown: a member that is not the JSON name of a field of the
	// struct it is read into, exactly (encoding/json would also take "URL"
	// or "Url" for "url").
	ErrUnknown = errors.New("strictjson: unknown member")
	// ErrTrailing: data after the JSON value.
	ErrTrailing = errors.New("strictjson: data after the JSON value")
	// ErrLimit: larger, deeper or with more members than the limits allow.
	ErrLimit = errors.New("strictjson: document too large or too deeply nested")
	// ErrType: a value of the wrong JSON type for its field (a string for a
	// number, null for an object at the top), or a value its type refuses.
	ErrType = errors.New("strictjson: wrong type")
)

// Error is a refused document. Member is the JSON path of the member
// concerned ("authorization.tokenUrl", "headers[2].name"; "" for the
// document itself) and names it, never its value, cut to 64 bytes and with
// anything but printable ASCII escaped as in a Go string; Offset is the byte offset
// where the problem was found (-1 when unknown). Err, when not nil, is the
// error of the field's own UnmarshalJSON or UnmarshalText.
type Error struct {
	Reason error
	Member string
	Offset int
	Err    error
	detail string
}

func (e *Error) Error() string {
	s := e.Reason.Error()
	if e.Member != "" {
		s += ` "` + e.Member + `"`
	}
	if e.detail != "" {
		s += " (" + e.detail + ")"
	}
	if e.Offset >= 0 && e.Member == "" && e.Err == nil {
		s += " at byte " + strconv.Itoa(e.Offset)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Problem is the message without the package name and the member, for a
// caller that reports the member itself: "duplicate member", "wrong type
// (number where string is wanted)".
func (e *Error) Problem() string {
	s := strings.TrimPrefix(e.Reason.Error(), "strictjson: ")
	if e.detail != "" {
		s += " (" + e.detail + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the reason and the field's own error, if any.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Reason, e.Err}
	}
	return []error{e.Reason}
}

// maxNameShown is the longest member path an error shows, in bytes.
const maxNameShown = 64

// cleanName makes a member path fit for an error: cut to maxNameShown bytes
// and with anything but printable ASCII escaped, so that a log line stays
// one short line whatever the document held.
func cleanName(s string) string {
	cut := false
	if len(s) > maxNameShown {
		s = s[:maxNameShown]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		cut = true
	}
	q := strconv.QuoteToASCII(s)
	q = q[1 : len(q)-1]
	if cut {
		q += "..."
	}
	return q
}
