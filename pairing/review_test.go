package pairing

import (
	"bytes"
	"context"
	"crypto/mlkem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/latchsec/latch/sealedbox/e2e"
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

// TestMLKEMSwapFailsConfirmation: a man in the middle replaces the
// device's ML-KEM encapsulation key with its own and re-encapsulates to
// the device, so that it would hold both ML-KEM secrets. The swap changes
// the SPAKE2+ Context, so the app refuses confirmV before it relies on the
// ML-KEM secret, and the device counts the attempt.
func TestMLKEMSwapFailsConfirmation(t *testing.T) {
	f := newFixture(t)
	mitm, err := mlkem.GenerateKey768()
	require.NoError(t, err)
	var deviceEK *mlkem.EncapsulationKey768
	var mu sync.Mutex
	r := newRelay(t, func(_ bool, i int, raw []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		out := append([]byte(nil), raw...)
		switch i {
		case 1: // params: the ek is the payload's last bytes
			ek := out[len(out)-mlkem.EncapsulationKeySize768:]
			deviceEK, err = mlkem.NewEncapsulationKey768(append([]byte(nil), ek...))
			require.NoError(t, err)
			copy(ek, mitm.EncapsulationKey().Bytes())
		case 2: // share: decapsulate the app's ct, re-encapsulate to the device
			ct := out[frameHeaderSize+pointSize:]
			_, err := mitm.Decapsulate(ct)
			require.NoError(t, err)
			_, ct2 := deviceEK.Encapsulate()
			copy(ct, ct2)
		}
		return out
	})
	o := pairOver(t, f.dev, f.code, r.appConn, r.devConn)
	require.ErrorIs(t, o.appErr, ErrAuthentication)
	require.Nil(t, o.appKey)
	require.Error(t, o.devErr)
	require.Nil(t, o.dev)
	require.Equal(t, 1, f.failures(t))
}

// failingStore fails every Save after the first n.
type failingStore struct {
	memStore
	n int
}

func (s *failingStore) Save(st State) error {
	s.mu.Lock()
	if s.saves >= s.n {
		s.mu.Unlock()
		return errors.New("disk full")
	}
	s.mu.Unlock()
	return s.memStore.Save(st)
}

// TestCountWriteFailureAnswersNothing: when the device cannot store the
// attempt, it does not answer the guess: the app never sees confirmV.
func TestCountWriteFailureAnswersNothing(t *testing.T) {
	f := newFixture(t)
	store := &failingStore{n: 1} // OpenWindow's save only
	f.store = store
	dev := f.device()
	require.NoError(t, dev.OpenWindow())
	var mu sync.Mutex
	var fromDevice []byte
	r := newRelay(t, func(fromApp bool, _ int, raw []byte) []byte {
		if !fromApp {
			mu.Lock()
			fromDevice = append(fromDevice, raw[1])
			mu.Unlock()
		}
		return raw
	})
	o := pairOver(t, dev, wrongCode(f.code), r.appConn, r.devConn)
	require.ErrorIs(t, o.devErr, ErrPairing)
	require.Error(t, o.appErr)
	require.NotErrorIs(t, o.appErr, ErrAuthentication, "the app must not learn the guess was wrong")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []byte{frameParams}, fromDevice)
}

// crashConn fails every Write after the first n, as a device that loses
// its power (or its link) at that point.
type crashConn struct {
	net.Conn
	n, writes int
}

func (c *crashConn) Write(b []byte) (int, error) {
	c.writes++
	if c.writes > c.n {
		return 0, errors.New("power cut")
	}
	return c.Conn.Write(b)
}

// TestCrashAfterCountKeepsIt: the device stops right after it stored the
// attempt, before confirmV leaves it (even with the right code): after the
// restart the attempt is still counted.
func TestCrashAfterCountKeepsIt(t *testing.T) {
	f := newFixture(t)
	f.store = FileStore{Path: filepath.Join(t.TempDir(), "state")}
	require.NoError(t, f.device().OpenWindow())
	a, d := net.Pipe()
	o := pairOver(t, f.device(), f.code, a, &crashConn{Conn: d, n: 1}) // params only
	require.Error(t, o.devErr)
	require.Error(t, o.appErr)
	restarted := FileStore{Path: f.store.(FileStore).Path}
	st, err := restarted.Load()
	require.NoError(t, err)
	require.Equal(t, 1, st.Failures)
}

// TestCorruptStateFailsClosed: a state file that cannot be read (damaged,
// truncated, of another version) stops pairing and opening the window
// with a typed error, counts nothing as reset, and only a factory reset
// (ResetAttempts) recovers the device, closed until the window opens.
func TestCorruptStateFailsClosed(t *testing.T) {
	for name, content := range map[string][]byte{
		"garbage":   []byte("not a state"),
		"truncated": append([]byte(nil), stateMagic[:len(stateMagic)-1]...),
		"version":   append([]byte("latch-pairing-state\x00\x02"), make([]byte, 12)...),
		"empty":     {},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			path := filepath.Join(t.TempDir(), "state")
			f.store = FileStore{Path: path}
			dev := f.device()
			require.NoError(t, dev.OpenWindow())
			require.NoError(t, os.WriteFile(path, content, 0o600))

			o := pair(t, dev, f.code)
			require.ErrorIs(t, o.devErr, ErrPairing)
			require.True(t, errors.Is(o.devErr, ErrMalformed) || errors.Is(o.devErr, ErrUnsupportedVersion), o.devErr)
			require.Error(t, o.appErr)
			require.Nil(t, o.appKey)
			err := dev.OpenWindow()
			require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupportedVersion), err)

			require.NoError(t, dev.ResetAttempts())
			require.Equal(t, State{}, FileStore{Path: path}.mustLoad(t))
			o = pair(t, dev, f.code)
			require.ErrorIs(t, o.devErr, ErrWindowClosed)
			require.NoError(t, dev.OpenWindow())
			o = pair(t, dev, f.code)
			require.NoError(t, o.devErr)
			require.NoError(t, o.appErr)
		})
	}
}

func (s FileStore) mustLoad(t *testing.T) State {
	t.Helper()
	st, err := s.Load()
	require.NoError(t, err)
	return st
}

// TestFileStoreSyncsDirectory: Save syncs the directory after the rename,
// so that the counted attempt is on disk before the device answers.
func TestFileStoreSyncsDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	fs := FileStore{Path: path}
	var synced []string
	real := syncDir
	t.Cleanup(func() { syncDir = real })
	syncDir = func(d string) error {
		// The rename has happened: the new state is in place.
		st := fs.mustLoad(t)
		require.Equal(t, 7, st.Failures)
		synced = append(synced, d)
		return real(d)
	}
	require.NoError(t, fs.Save(State{Failures: 7}))
	require.Equal(t, []string{dir}, synced)

	// A failed sync fails the Save, so the device does not answer; the
	// error keeps the I/O error.
	errSync := errors.New("sync failed")
	syncDir = func(string) error { return errSync }
	err := fs.Save(State{Failures: 8})
	require.ErrorIs(t, err, errSync)
	require.ErrorIs(t, err, errStore)
	require.Equal(t, "pairing: device state store failed: sync failed", err.Error())
}

// TestParsedRecordOwnsItsBytes: a device that wipes the buffer it read
// the record from (as it should with a secret) still pairs, and a record
// that was never made (the zero Record) is refused, not a panic.
func TestParsedRecordOwnsItsBytes(t *testing.T) {
	f := newFixture(t)
	b, err := f.rec.MarshalBinary()
	require.NoError(t, err)
	rec, err := ParseRecord(b)
	require.NoError(t, err)
	clear(b)
	dev := f.device()
	dev.Record = rec
	o := pair(t, dev, f.code)
	require.NoError(t, o.devErr)
	require.NoError(t, o.appErr)

	dev.Record = &Record{}
	_, err = dev.Pair(context.Background(), &bytes.Buffer{})
	require.ErrorIs(t, err, ErrPairing)
}

// TestRecordingWithBrokenECDLPGivesNoKey: someone records a pairing and,
// years later, breaks P-256's discrete logarithm: it then knows x (the
// discrete logarithm of shareP minus w0*M) and, by an offline search, the
// code, so it recomputes all of SPAKE2+ from the recording: Z, V, K_main,
// K_shared, and confirmV checks out. It still has neither the end-to-end
// key nor the payload, which need the ML-KEM-768 secret as well. Here the
// test plays the app with a known x to stand for that attacker's
// knowledge.
func TestRecordingWithBrokenECDLPGivesNoKey(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var recording [][]byte
	r := newRelay(t, func(_ bool, _ int, raw []byte) []byte {
		mu.Lock()
		recording = append(recording, append([]byte(nil), raw...))
		mu.Unlock()
		return raw
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	var res *DeviceResult
	var devErr error
	wg.Go(func() { res, devErr = f.dev.Pair(ctx, r.devConn); r.devConn.Close() })

	// The app, by hand, with its x kept.
	l := &link{rw: r.appConn, timeout: time.Minute}
	nonce := make([]byte, nonceSize)
	require.NoError(t, l.send(ctx, frameHello, nonce))
	pp, err := l.receive(ctx, frameParams)
	require.NoError(t, err)
	params, err := parseParams(pp)
	require.NoError(t, err)
	ek, err := mlkem.NewEncapsulationKey768(params.ek)
	require.NoError(t, err)
	w0, w1 := deriveW(f.code, nil, params.deviceID, params.salt, params.kdf)
	ss, ct := ek.Encapsulate()
	x := randomScalar()
	shareP := share(x, w0, pointM)
	require.NoError(t, l.send(ctx, frameShare, (&shareMsg{shareP: shareP, ct: ct}).marshal()))
	pv, err := l.receive(ctx, frameConfirmV)
	require.NoError(t, err)
	cv, err := parseConfirmV(pv)
	require.NoError(t, err)
	z, v, ok := proverSecrets(x, w0, w1, cv.shareV)
	require.True(t, ok)
	sched := keySchedule(&transcript{context: spakeContext(l.frames[0], l.frames[1], ct),
		idVerifier: params.deviceID, shareP: shareP, shareV: cv.shareV, z: z, v: v, w0: w0})
	require.True(t, bytes.Equal(sched.confirmV, cv.confirmV))
	require.NoError(t, l.send(ctx, frameConfirmP, sched.confirmP))
	keys := deriveSessionKeys(sched.kShared, ss, l.frames)
	require.NoError(t, l.send(ctx, framePayload, keys.sealPayload(testProvisioning.marshal())))
	_, err = l.receive(ctx, frameDone)
	require.NoError(t, err)
	r.appConn.Close()
	wg.Wait()
	require.NoError(t, devErr)
	want, err := e2e.NewKey(keys.e2e)
	require.NoError(t, err)
	require.True(t, res.Key.Equal(want))

	// The attacker: the recording, x and the code; everything SPAKE2+
	// gives, but not ss.
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, recording, 7)
	recCV, err := parseConfirmV(recording[3][frameHeaderSize:])
	require.NoError(t, err)
	recShare, err := parseShare(recording[2][frameHeaderSize:])
	require.NoError(t, err)
	az, av, ok := proverSecrets(x, w0, w1, recCV.shareV)
	require.True(t, ok)
	atk := keySchedule(&transcript{context: spakeContext(recording[0], recording[1], recShare.ct),
		idVerifier: params.deviceID, shareP: recShare.shareP, shareV: recCV.shareV, z: az, v: av, w0: w0})
	require.Equal(t, sched.kShared, atk.kShared, "the attacker has all of SPAKE2+")
	for _, guess := range [][]byte{nil, make([]byte, mlkem.SharedKeySize)} {
		k := deriveSessionKeys(atk.kShared, guess, recording[:5])
		guessed, err := e2e.NewKey(k.e2e)
		require.NoError(t, err)
		require.False(t, res.Key.Equal(guessed))
		_, err = k.openPayload(recording[5][frameHeaderSize:])
		require.ErrorIs(t, err, ErrAuthentication)
	}
	// With the ML-KEM secret, the same derivation opens it: the secret,
	// and only it, is what is missing.
	_, err = deriveSessionKeys(atk.kShared, ss, recording[:5]).openPayload(recording[5][frameHeaderSize:])
	require.NoError(t, err)
}

// TestWindowClosesMidSession: a session that began inside the window but
// whose share arrives after it closed is refused at the count, and no
// guess is answered or counted.
func TestWindowClosesMidSession(t *testing.T) {
	f := newFixture(t)
	r := newRelay(t, func(_ bool, i int, raw []byte) []byte {
		if i == 2 { // the share, held until the window has passed
			f.clock.Advance(DefaultWindow)
		}
		return raw
	})
	o := pairOver(t, f.dev, f.code, r.appConn, r.devConn)
	require.ErrorIs(t, o.devErr, ErrWindowClosed)
	require.ErrorIs(t, o.appErr, ErrWindowClosed)
	require.Equal(t, 0, f.failures(t))
}
