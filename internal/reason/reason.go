// Package reason is the one error idiom of every Latch package: an error
// that matches a category sentinel (such as token.ErrInvalid or
// sealedbox.ErrOpen) and, where the package says why, a reason sentinel
// (such as sealedbox.ErrUnknownSigner), both with errors.Is.
//
// Each package declares its sentinels in its errors.go, one
// errors.New("pkg: ...") each, and builds its errors with New or with an
// exported type of its own that embeds Fault (for callers that read fields
// with errors.As). The message is the category's, then the reason's and the
// detail, without repeating the package's prefix:
//
//	sealedbox: cannot open: malformed input: envelope shorter than its header
//
// A detail and a wrapped error must never hold a secret, a key or a whole
// token: error messages end up in logs.
package reason

import "strings"

// Fault matches Category and Reason (and Cause, if set) with errors.Is.
type Fault struct {
	Category error  // the sentinel a caller matches first; never nil
	Reason   error  // a finer sentinel, or nil
	Detail   string // what was wrong, in words that hold no secret, or ""
	Cause    error  // the error this one was caused by, or nil
}

// New returns an error of category for reason (nil for none).
func New(category, reason error) error {
	return &Fault{Category: category, Reason: reason}
}

// Newf returns an error of category for reason with a detail.
func Newf(category, reason error, detail string) error {
	return &Fault{Category: category, Reason: reason, Detail: detail}
}

// Wrap returns an error of category for reason, caused by err.
func Wrap(category, reason, err error) error {
	return &Fault{Category: category, Reason: reason, Cause: err}
}

func (e *Fault) Error() string {
	var b strings.Builder
	b.WriteString(e.Category.Error())
	prefix := packagePrefix(e.Category.Error())
	if e.Reason != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Reason.Error(), prefix))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Cause.Error(), prefix))
	}
	return b.String()
}

// Unwrap returns the category, the reason and the cause that are set.
func (e *Fault) Unwrap() []error {
	errs := make([]error, 0, 3)
	for _, err := range []error{e.Category, e.Reason, e.Cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// packagePrefix returns "pkg: " for a message "pkg: text", or "".
func packagePrefix(msg string) string {
	i := strings.Index(msg, ": ")
	if i < 0 || strings.ContainsAny(msg[:i], " \t") {
		return ""
	}
	return msg[:i+2]
}
