package pairing

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPairing(t *testing.T) {
	f := newFixture(t)
	o := pair(t, f.dev, f.code)
	require.NoError(t, o.appErr)
	require.NoError(t, o.devErr)
	require.NotNil(t, o.appKey)
	require.True(t, o.appKey.Equal(o.dev.Key), "both sides hold the same key")
	require.Equal(t, testProvisioning, o.dev.Provisioning)
	// Success resets the counter and leaves pairing mode.
	require.Equal(t, State{}, f.store.(*memStore).state())

	// Two pairings never give the same key.
	require.NoError(t, f.dev.OpenWindow())
	o2 := pair(t, f.dev, f.code)
	require.NoError(t, o2.appErr)
	require.False(t, o.appKey.Equal(o2.appKey))

	// Out of pairing mode now.
	o3 := pair(t, f.dev, f.code)
	require.ErrorIs(t, o3.devErr, ErrWindowClosed)
	require.ErrorIs(t, o3.appErr, ErrRefused)
	require.ErrorIs(t, o3.appErr, ErrWindowClosed)
}

// TestWrongCode: an app with the wrong code fails on both sides and costs
// the device exactly one attempt.
func TestWrongCode(t *testing.T) {
	f := newFixture(t)
	o := pair(t, f.dev, wrongCode(f.code))
	require.ErrorIs(t, o.appErr, ErrAuthentication)
	require.ErrorIs(t, o.devErr, ErrAuthentication)
	require.ErrorIs(t, o.devErr, ErrPairing)
	require.Nil(t, o.appKey)
	require.Nil(t, o.dev)
	require.Equal(t, 1, f.failures(t))
	// The right code still pairs.
	o = pair(t, f.dev, f.code)
	require.NoError(t, o.appErr)
	require.NoError(t, o.devErr)
	require.Equal(t, 0, f.failures(t))
}

// TestRelayWithWrongCode: someone in the middle relays the app to a fake
// device and a fake app to the real device, with a guessed code on both
// sides. The app refuses the fake device, the real device refuses the
// fake app, and the guess costs exactly one attempt on the device.
func TestRelayWithWrongCode(t *testing.T) {
	f := newFixture(t)
	guess := wrongCode(f.code)
	fakeRecord, err := NewRecord(guess, f.rec.DeviceID(), testKDF)
	require.NoError(t, err)
	fakeDevice := &Device{Record: fakeRecord, Store: &memStore{}, Now: f.clock.Now}
	require.NoError(t, fakeDevice.OpenWindow())

	// App side: the real app against the attacker's device.
	toApp := pair(t, fakeDevice, f.code)
	require.ErrorIs(t, toApp.appErr, ErrAuthentication)
	require.Nil(t, toApp.appKey)
	require.ErrorIs(t, toApp.devErr, ErrAuthentication)

	// Device side: the attacker's app against the real device.
	toDev := pair(t, f.dev, guess)
	require.ErrorIs(t, toDev.devErr, ErrAuthentication)
	require.ErrorIs(t, toDev.appErr, ErrAuthentication)
	require.Equal(t, 1, f.failures(t))
}

// TestAttemptLimitAcrossRestart: the limit holds after the device restarts
// with its stored state, even for the right code, until a reset.
func TestAttemptLimitAcrossRestart(t *testing.T) {
	f := newFixture(t)
	f.store = FileStore{Path: filepath.Join(t.TempDir(), "state")}
	dev := f.device()
	dev.MaxAttempts = 3
	require.NoError(t, dev.OpenWindow())
	for i := range 3 {
		o := pair(t, dev, wrongCode(f.code))
		require.ErrorIs(t, o.devErr, ErrAuthentication)
		require.Equal(t, i+1, f.failures(t))
		// Restart: a new Device, the record read back from its encoding.
		b, err := f.rec.MarshalBinary()
		require.NoError(t, err)
		f.rec, err = ParseRecord(b)
		require.NoError(t, err)
		dev = f.device()
		dev.MaxAttempts = 3
	}
	o := pair(t, dev, f.code)
	require.ErrorIs(t, o.devErr, ErrAttemptsExhausted)
	require.ErrorIs(t, o.appErr, ErrRefused)
	require.ErrorIs(t, o.appErr, ErrAttemptsExhausted)
	require.Equal(t, 3, f.failures(t), "a refused attempt is not counted")

	require.NoError(t, dev.ResetAttempts())
	o = pair(t, dev, f.code)
	require.NoError(t, o.devErr)
	require.NoError(t, o.appErr)
}

// TestWindow: the device pairs only inside its window, across a restart,
// and not when its clock is before the window opened.
func TestWindow(t *testing.T) {
	f := newFixture(t)
	f.store = FileStore{Path: filepath.Join(t.TempDir(), "state")}
	dev := f.device()
	// Never opened.
	o := pair(t, dev, f.code)
	require.ErrorIs(t, o.devErr, ErrWindowClosed)
	require.ErrorIs(t, o.appErr, ErrWindowClosed)

	require.NoError(t, dev.OpenWindow())
	f.clock.Advance(DefaultWindow - time.Second)
	dev = f.device() // restart inside the window
	f.clock.Advance(time.Second)
	o = pair(t, dev, f.code)
	require.ErrorIs(t, o.devErr, ErrWindowClosed, "the window ends at exactly 15 minutes")
	require.Equal(t, 0, f.failures(t))

	require.NoError(t, dev.OpenWindow())
	f.clock.Advance(-time.Minute) // the clock went back
	o = pair(t, dev, f.code)
	require.ErrorIs(t, o.devErr, ErrWindowClosed)

	f.clock.Advance(2 * time.Minute)
	o = pair(t, f.device(), f.code)
	require.NoError(t, o.devErr)
}

// relay sits between the app and the device and lets change run on every
// frame, in both directions; change returns the bytes to forward.
type relay struct {
	appConn, devConn net.Conn // the ends handed to the app and the device
}

// newRelay starts a relay; change gets each frame's direction (true: from
// the app), its index in the session (0 = hello) and its bytes.
func newRelay(t testing.TB, change func(fromApp bool, i int, frame []byte) []byte) *relay {
	t.Helper()
	appConn, relayApp := net.Pipe()
	devConn, relayDev := net.Pipe()
	var mu sync.Mutex
	i := 0
	forward := func(fromApp bool, src, dst net.Conn) {
		defer dst.Close()
		for {
			_, _, raw, err := readFrame(src)
			if err != nil {
				return
			}
			mu.Lock()
			n := i
			i++
			mu.Unlock()
			if out := change(fromApp, n, raw); out != nil {
				if _, err := dst.Write(out); err != nil {
					return
				}
			}
		}
	}
	go forward(true, relayApp, relayDev)
	go forward(false, relayDev, relayApp)
	return &relay{appConn: appConn, devConn: devConn}
}

// TestTamperedFrames flips one bit of each frame, at the start, middle and
// end of its payload: the pairing fails with no key on the side that
// checks that frame, and nothing but the attempt counter is stored.
func TestTamperedFrames(t *testing.T) {
	for frame := range 7 {
		for _, where := range []string{"first", "middle", "last"} {
			t.Run(strings.Join([]string{string(rune('1' + frame)), where}, "-"), func(t *testing.T) {
				f := newFixture(t)
				r := newRelay(t, func(_ bool, i int, raw []byte) []byte {
					if i != frame {
						return raw
					}
					out := append([]byte(nil), raw...)
					pos := map[string]int{"first": frameHeaderSize, "middle": (frameHeaderSize + len(raw)) / 2, "last": len(raw) - 1}[where]
					out[pos] ^= 0x01
					return out
				})
				o := pairOver(t, f.dev, f.code, r.appConn, r.devConn)
				require.Error(t, o.appErr, "the app must not accept a tampered session")
				require.Nil(t, o.appKey)
				if frame < 6 {
					// Up to the payload, the device refuses as well.
					require.Error(t, o.devErr)
					require.Nil(t, o.dev)
				}
				if frame == 6 {
					// The done frame is the device's last word: the
					// device has paired, the app has not and will ask
					// the person to start again.
					require.NoError(t, o.devErr)
				}
			})
		}
	}
}

// TestReflectedFrames sends each side its own first frame back.
func TestReflectedFrames(t *testing.T) {
	t.Run("to the device", func(t *testing.T) {
		f := newFixture(t)
		a, d := net.Pipe()
		errc := make(chan error, 1)
		go func() { _, err := f.dev.Pair(context.Background(), d); errc <- err; d.Close() }()
		hello := appendFrame(nil, frameHello, make([]byte, nonceSize))
		_, err := a.Write(hello)
		require.NoError(t, err)
		_, _, params, err := readFrame(a)
		require.NoError(t, err)
		_, err = a.Write(params) // the device's own params frame
		require.NoError(t, err)
		err = <-errc
		require.ErrorIs(t, err, errUnexpectedFrame)
		require.ErrorIs(t, err, ErrMalformed, "callers match the folded reason as ErrMalformed")
		require.Equal(t, 0, f.failures(t))
	})
	t.Run("to the app", func(t *testing.T) {
		f := newFixture(t)
		a, d := net.Pipe()
		errc := make(chan error, 1)
		go func() {
			var app App
			_, err := app.Pair(context.Background(), a, f.code, testProvisioning)
			errc <- err
			a.Close()
		}()
		_, _, hello, err := readFrame(d)
		require.NoError(t, err)
		_, err = d.Write(hello)
		require.NoError(t, err)
		require.ErrorIs(t, <-errc, errUnexpectedFrame)
	})
}

// TestReplayedSession records the app's frames of a successful pairing and
// replays them to the device in pairing mode again: the device refuses at
// key confirmation, and the replay costs one attempt like any guess.
func TestReplayedSession(t *testing.T) {
	f := newFixture(t)
	var recorded [][]byte
	var mu sync.Mutex
	r := newRelay(t, func(fromApp bool, _ int, raw []byte) []byte {
		if fromApp {
			mu.Lock()
			recorded = append(recorded, raw)
			mu.Unlock()
		}
		return raw
	})
	o := pairOver(t, f.dev, f.code, r.appConn, r.devConn)
	require.NoError(t, o.devErr)
	require.Len(t, recorded, 4)

	require.NoError(t, f.dev.OpenWindow())
	a, d := net.Pipe()
	errc := make(chan error, 1)
	go func() { _, err := f.dev.Pair(context.Background(), d); errc <- err; d.Close() }()
	go io.Copy(io.Discard, a)
	for _, frame := range recorded {
		if _, err := a.Write(frame); err != nil {
			break
		}
	}
	require.ErrorIs(t, <-errc, ErrAuthentication)
	a.Close()
	require.Equal(t, 1, f.failures(t))
}

// TestReorderedFrames sends the share before the hello, and the hello
// twice: refused as unexpected, nothing counted.
func TestReorderedFrames(t *testing.T) {
	f := newFixture(t)
	run := func(frames ...[]byte) error {
		a, d := net.Pipe()
		defer a.Close()
		errc := make(chan error, 1)
		go func() { _, err := f.dev.Pair(context.Background(), d); errc <- err; d.Close() }()
		go io.Copy(io.Discard, a)
		for _, fr := range frames {
			if _, err := a.Write(fr); err != nil {
				break
			}
		}
		return <-errc
	}
	share := appendFrame(nil, frameShare, make([]byte, pointSize+1088))
	hello := appendFrame(nil, frameHello, make([]byte, nonceSize))
	require.ErrorIs(t, run(share), errUnexpectedFrame)
	require.ErrorIs(t, run(hello, hello), errUnexpectedFrame)
	require.ErrorIs(t, run(hello, appendFrame(nil, frameConfirmP, make([]byte, hashSize))), errUnexpectedFrame)
	require.Equal(t, 0, f.failures(t))
	require.Equal(t, State{WindowOpened: t0}, f.store.(*memStore).state())
}

// TestBadFrames: truncated, oversized, unknown-version and malformed
// frames give typed errors and leave the stored state alone.
func TestBadFrames(t *testing.T) {
	hello := appendFrame(nil, frameHello, make([]byte, nonceSize))
	oversized := []byte{frameVersion, frameHello, 0xff, 0xff}
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, ErrMalformed},
		{"header cut", hello[:3], ErrMalformed},
		{"payload cut", hello[:20], ErrMalformed},
		{"oversized", oversized, errTooLarge},
		{"version 2", append([]byte{2}, hello[1:]...), ErrUnsupportedVersion},
		{"short hello", appendFrame(nil, frameHello, make([]byte, 5)), ErrMalformed},
		{"unknown type", appendFrame(nil, 99, nil), errUnexpectedFrame},
		{"bad abort", appendFrame(nil, frameAbort, []byte{77}), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.store.(*memStore).state()
			rw := &struct {
				io.Reader
				io.Writer
			}{bytes.NewReader(tc.input), io.Discard}
			res, err := f.dev.Pair(context.Background(), rw)
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, ErrPairing)
			require.Nil(t, res)
			require.Equal(t, before, f.store.(*memStore).state())
			if tc.name == "header cut" || tc.name == "payload cut" {
				require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			}
			if tc.want != ErrUnsupportedVersion {
				require.ErrorIs(t, err, ErrMalformed)
			}
		})
	}
}

// TestWorkFactorBound: a fake device that asks for more memory than the
// bound is refused before the app runs Argon2id.
func TestWorkFactorBound(t *testing.T) {
	for _, kdf := range []KDFParams{
		{Time: 1, MemoryKiB: maxKDFMemoryKiB + 1, Threads: 1},
		{Time: maxKDFTime + 1, MemoryKiB: minKDFMemoryKiB, Threads: 1},
		{Time: 1, MemoryKiB: minKDFMemoryKiB, Threads: maxKDFThreads + 1},
		{Time: 1, MemoryKiB: 1, Threads: 1},
	} {
		a, d := net.Pipe()
		errc := make(chan error, 1)
		code := NewSetupCode()
		go func() {
			var app App
			_, err := app.Pair(context.Background(), a, code, testProvisioning)
			errc <- err
			a.Close()
		}()
		_, _, _, err := readFrame(d)
		require.NoError(t, err)
		params := &paramsMsg{nonce: make([]byte, nonceSize), kdf: kdf, salt: make([]byte, saltSize), ek: make([]byte, 1184)}
		_, err = d.Write(appendFrame(nil, frameParams, params.marshal()))
		require.NoError(t, err)
		go io.Copy(io.Discard, d)
		require.ErrorIs(t, <-errc, ErrWorkFactor)
		d.Close()
		_, err = NewRecord(code, "", kdf)
		require.ErrorIs(t, err, ErrWorkFactor)
	}
}

// TestContextDeadline: a cancelled context ends a step that waits on the
// link, on a net.Conn and on a plain io.ReadWriter.
func TestContextDeadline(t *testing.T) {
	f := newFixture(t)
	a, d := net.Pipe()
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := f.dev.Pair(ctx, d); errc <- err }()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		var app App
		_, err := app.Pair(ctx, &struct {
			io.Reader
			io.Writer
		}{pr, io.Discard}, f.code, testProvisioning)
		errc <- err
	}()
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrPairing)

	// A step timeout that has passed ends the step as a deadline.
	dev := f.device()
	dev.StepTimeout = time.Nanosecond
	_, err = dev.Pair(context.Background(), d)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestErrorsCarryNoSecrets: no error of a failed pairing or a bad
// provisioning payload contains the code or the secret.
func TestErrorsCarryNoSecrets(t *testing.T) {
	f := newFixture(t)
	o := pair(t, f.dev, wrongCode(f.code))
	bad := testProvisioning
	bad.PlatformURL = "not a url " + testProvisioning.AppSecret
	var app App
	_, errProv := app.Pair(context.Background(), &bytes.Buffer{}, f.code, bad)
	require.ErrorIs(t, errProv, ErrMalformed)
	for _, err := range []error{o.appErr, o.devErr, errProv} {
		msg := err.Error()
		require.True(t, strings.HasPrefix(msg, "pairing: "), msg)
		for _, secret := range []string{f.code.digits, f.code.Printed(), testProvisioning.AppSecret} {
			require.NotContains(t, msg, secret)
		}
	}
	require.False(t, errors.Is(o.appErr, ErrMalformed))
}

// TestProvisioningLimits: fields at their caps make a payload that fits in
// a frame or is refused with ErrMalformed, never a panic.
func TestProvisioningLimits(t *testing.T) {
	long := strings.Repeat("a", maxFieldSize)
	for _, p := range []Provisioning{
		{AppKey: long, AppSecret: long, PlatformURL: "https://p.example/" + long[:maxFieldSize-18], Settings: []byte(long)},
		{AppKey: long + "a", AppSecret: "s", PlatformURL: "https://p.example/"},
		{AppKey: "k", AppSecret: "s", PlatformURL: "https://p.example/", Settings: []byte(long + "a")},
		{AppKey: "", AppSecret: "s", PlatformURL: "https://p.example/"},
		{AppKey: "k", AppSecret: "s", PlatformURL: "/relative"},
		{AppKey: "k", AppSecret: "\xff", PlatformURL: "https://p.example/"},
	} {
		var app App
		_, err := app.Pair(context.Background(), &bytes.Buffer{}, NewSetupCode(), p)
		require.ErrorIs(t, err, ErrMalformed)
	}
	ok := Provisioning{AppKey: long, AppSecret: long[:900], PlatformURL: "https://p.example/", Settings: []byte(long)}
	require.NoError(t, ok.check())
	back, err := parseProvisioning(ok.marshal())
	require.NoError(t, err)
	require.Equal(t, ok, *back)
}

// TestAppRevealsNothingToFakeDevice: posing as the device with a record of
// a guessed code, the attacker sees from the app only its hello, its
// share and an abort: never confirmP, never the payload.
func TestAppRevealsNothingToFakeDevice(t *testing.T) {
	f := newFixture(t)
	fakeRecord, err := NewRecord(wrongCode(f.code), f.rec.DeviceID(), testKDF)
	require.NoError(t, err)
	fake := &Device{Record: fakeRecord, Store: &memStore{}, Now: f.clock.Now}
	require.NoError(t, fake.OpenWindow())
	var mu sync.Mutex
	var fromApp []byte
	r := newRelay(t, func(app bool, _ int, raw []byte) []byte {
		if app {
			mu.Lock()
			fromApp = append(fromApp, raw[1])
			mu.Unlock()
		}
		return raw
	})
	o := pairOver(t, fake, f.code, r.appConn, r.devConn)
	require.ErrorIs(t, o.appErr, ErrAuthentication)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []byte{frameHello, frameShare, frameAbort}, fromApp)
}

// TestErrorShapes: each kind of failure matches ErrPairing and its reasons
// with errors.Is, and reads as one line that names them.
func TestErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		err     error
		matches []error
		msg     string
	}{
		{errRefused(ErrWindowClosed), []error{ErrPairing, ErrRefused, ErrWindowClosed},
			"pairing: pairing failed: refused by the device: pairing window closed"},
		{errRefused(nil), []error{ErrPairing, ErrRefused}, "pairing: pairing failed: refused by the device"},
		{errPairing(ErrAuthentication), []error{ErrPairing, ErrAuthentication}, "pairing: pairing failed: authentication failed"},
		{errPairing(errMalformed("hello frame of wrong length")), []error{ErrPairing, ErrMalformed},
			"pairing: pairing failed: malformed input: hello frame of wrong length"},
		{errPairing(linkError(io.EOF)), []error{ErrPairing, ErrMalformed, io.ErrUnexpectedEOF},
			"pairing: pairing failed: malformed input: frame truncated: unexpected EOF"},
		{errPairing(errPairing(ErrWorkFactor)), []error{ErrPairing, ErrWorkFactor},
			"pairing: pairing failed: password-hashing work factor out of bounds"},
	} {
		require.Equal(t, tc.msg, tc.err.Error())
		for _, m := range tc.matches {
			require.ErrorIs(t, tc.err, m, tc.msg)
		}
		require.NotErrorIs(t, tc.err, ErrCheckDigit, tc.msg)
	}
	code := NewSetupCode().Printed()
	last := code[len(code)-1]
	_, err := ParseSetupCode(code[:len(code)-1] + string('0'+(last-'0'+1)%10))
	require.ErrorIs(t, err, ErrInvalidSetupCode)
	require.ErrorIs(t, err, ErrCheckDigit)
	require.Equal(t, "pairing: invalid setup code: setup code check digit mismatch", err.Error())
}
