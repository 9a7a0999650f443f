package reason_test

import (
	"errors"
	"io"
	"testing"

	"github.com/latchsec/latch/internal/reason"
)

var (
	errOpen      = errors.New("box: cannot open")
	errMalformed = errors.New("box: malformed input")
	errOther     = errors.New("box: other")
)

func TestMatchAndMessage(t *testing.T) {
	for _, tc := range []struct {
		err     error
		matches []error
		misses  []error
		msg     string
	}{
		{reason.New(errOpen, nil), []error{errOpen}, []error{errMalformed}, "box: cannot open"},
		{reason.New(errOpen, errMalformed), []error{errOpen, errMalformed}, []error{errOther}, "box: cannot open: malformed input"},
		{reason.Newf(errOpen, errMalformed, "too short"), []error{errOpen, errMalformed}, []error{errOther}, "box: cannot open: malformed input: too short"},
		{reason.Wrap(errOpen, nil, io.ErrUnexpectedEOF), []error{errOpen, io.ErrUnexpectedEOF}, []error{errMalformed}, "box: cannot open: unexpected EOF"},
		{reason.Wrap(errOpen, errMalformed, errOther), []error{errOpen, errMalformed, errOther}, nil, "box: cannot open: malformed input: other"},
		{reason.New(errors.New("no prefix here"), errors.New("x: y")), nil, nil, "no prefix here: x: y"},
	} {
		if got := tc.err.Error(); got != tc.msg {
			t.Errorf("message %q, want %q", got, tc.msg)
		}
		for _, m := range tc.matches {
			if !errors.Is(tc.err, m) {
				t.Errorf("%q does not match %q", tc.err, m)
			}
		}
		for _, m := range tc.misses {
			if errors.Is(tc.err, m) {
				t.Errorf("%q matches %q", tc.err, m)
			}
		}
	}
}

// An exported error type of a package embeds Fault and is found with
// errors.As, while errors.Is still matches its sentinels.
type fieldError struct {
	reason.Fault
	Field string
}

func TestEmbedded(t *testing.T) {
	var err error = &fieldError{Fault: reason.Fault{Category: errOpen, Reason: errMalformed, Detail: "field \"a\""}, Field: "a"}
	var fe *fieldError
	if !errors.As(err, &fe) || fe.Field != "a" {
		t.Fatal("errors.As does not find the package's type")
	}
	if !errors.Is(err, errOpen) || !errors.Is(err, errMalformed) || errors.Is(err, errOther) {
		t.Fatal("the embedded Fault's sentinels are not matched as they should be")
	}
	if got, want := err.Error(), "box: cannot open: malformed input: field \"a\""; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}
