package pairing

import (
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// slowStore is a memStore whose Load yields the processor many times
// between reading the state and returning it, so that two sessions that
// read the state without excluding each other read the same count.
type slowStore struct{ memStore }

func (s *slowStore) Load() (State, error) {
	st, err := s.memStore.Load()
	for range 2000 {
		runtime.Gosched()
	}
	return st, err
}

// TestParallelSessionsCountEveryGuess: an attacker with several links to
// the device at once (or firmware that makes one Device per link over one
// Store) runs wrong-code sessions in parallel. Every session that is
// answered with confirmV has tested one guess, so no more sessions than
// the limit may be answered, and each of them is counted.
func TestParallelSessionsCountEveryGuess(t *testing.T) {
	f := newFixture(t)
	store := &slowStore{}
	f.store = store
	const limit, sessions = 2, 8
	require.NoError(t, f.device().OpenWindow())
	var wg sync.WaitGroup
	errs := make([]error, sessions)
	for i := range sessions {
		wg.Go(func() {
			dev := f.device() // one Device value per link
			dev.MaxAttempts = limit
			o := pair(t, dev, wrongCode(f.code))
			errs[i] = o.appErr
		})
	}
	wg.Wait()
	answered := 0
	for _, err := range errs {
		require.Error(t, err)
		if errors.Is(err, ErrAuthentication) {
			answered++ // the device answered the guess with confirmV
		} else {
			require.ErrorIs(t, err, ErrAttemptsExhausted)
		}
	}
	require.LessOrEqual(t, answered, limit, "guesses answered beyond the attempt limit")
	require.Equal(t, answered, store.state().Failures, "a guess answered but not counted")
}
