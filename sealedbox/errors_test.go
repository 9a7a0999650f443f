package sealedbox

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

var errAccepted = errors.New("accepted")

var errorsIs = errors.Is

func TestErrorMessages(t *testing.T) {
	require.Equal(t, "sealedbox: cannot open", errOpen(nil).Error())
	require.Equal(t, "sealedbox: cannot open: malformed input", errOpen(ErrMalformed).Error())
	err := &reasonError{ErrWrongKey, ErrSuiteMismatch}
	require.Equal(t, "sealedbox: envelope sealed to another key: suite mismatch", err.Error())
	require.ErrorIs(t, err, ErrWrongKey)
	require.ErrorIs(t, err, ErrSuiteMismatch)
	require.NotErrorIs(t, err, ErrOpen)
}
