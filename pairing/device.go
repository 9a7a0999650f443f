package pairing

import (
	"context"
	"crypto/hmac"
	"crypto/mlkem"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/sealedbox/e2e"
)

// Defaults of [Device], used where a field is zero.
const (
	DefaultMaxAttempts = 20
	DefaultWindow      = 15 * time.Minute
)

// defaultStepTimeout bounds each read and write of a pairing where
// App.StepTimeout or Device.StepTimeout is zero.
const defaultStepTimeout = 30 * time.Second

// A Device is the device's side of pairing: RFC 9383's verifier. It holds
// the verification record made at manufacture and a [Store] for the
// attempt counter and pairing window. Its zero fields take the defaults;
// Record and Store are required. Its methods are safe for concurrent use:
// sessions on several links at once, through one Device or several over
// the same Store, each count their attempt before they answer (within one
// process; a Store shared between processes must serialize Load and Save
// itself).
type Device struct {
	// Record is the device's verification record from [NewRecord].
	Record *Record
	// Store keeps the attempt counter and the pairing window across
	// restarts.
	Store Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxAttempts is how many failed attempts the device counts before it
	// refuses to pair until [Device.ResetAttempts]; 0 means
	// DefaultMaxAttempts (20).
	MaxAttempts int
	// Window is how long after [Device.OpenWindow] the device pairs;
	// 0 means DefaultWindow (15 minutes).
	Window time.Duration
	// StepTimeout bounds each read and write of a pairing, on top of the
	// caller's context; 0 means 30 seconds.
	StepTimeout time.Duration
}

// stateMu serializes every read-modify-write of a stored State in this
// process, whichever Device value does it: firmware may well make one
// Device per link over one Store, and two sessions that each read the
// counter before the other saved it would each get a guess for one count.
// Pairing is rare, so one lock for all devices costs nothing.
var stateMu sync.Mutex

// DeviceResult is what a device holds after a successful pairing.
type DeviceResult struct {
	// Key is the 256-bit end-to-end key, the same as the app's.
	Key *e2e.Key
	// Provisioning is what the app sent.
	Provisioning Provisioning
}

func (d *Device) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Device) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (d *Device) window() time.Duration {
	if d.Window > 0 {
		return d.Window
	}
	return DefaultWindow
}

func stepTimeout(t time.Duration) time.Duration {
	if t > 0 {
		return t
	}
	return defaultStepTimeout
}

// OpenWindow enters pairing mode: the device pairs for [Device.Window]
// from now. Call it when the person asks for it on the device (a button
// held at power-up, a factory reset). It does not reset the attempt
// counter.
func (d *Device) OpenWindow() error {
	stateMu.Lock()
	defer stateMu.Unlock()
	s, err := d.Store.Load()
	if err != nil {
		return err
	}
	s.WindowOpened = d.now()
	return d.Store.Save(s)
}

// ResetAttempts sets the failed-attempt counter to zero. Call it only on
// an action that needs physical access to the device, such as a factory
// reset, never on a request from the link. A stored state that cannot be
// read ([ErrMalformed], [ErrUnsupportedVersion]) makes every other method
// fail closed; ResetAttempts replaces it with a fresh state, not in pairing
// mode, so that a factory reset recovers the device.
func (d *Device) ResetAttempts() error {
	stateMu.Lock()
	defer stateMu.Unlock()
	s, err := d.Store.Load()
	if errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupportedVersion) {
		s, err = State{}, nil
	}
	if err != nil {
		return err
	}
	s.Failures = 0
	return d.Store.Save(s)
}

// refusal returns why the device would refuse a pairing in state s, or 0.
func (d *Device) refusal(s State) byte {
	now := d.now()
	switch {
	case s.Failures >= d.maxAttempts():
		return abortAttempts
	case s.WindowOpened.IsZero() || now.Before(s.WindowOpened) || !now.Before(s.WindowOpened.Add(d.window())):
		return abortWindowClosed
	}
	return 0
}

func refusalError(why byte) error {
	if why == abortAttempts {
		return errPairing(ErrAttemptsExhausted)
	}
	return errPairing(ErrWindowClosed)
}

// admit loads the state and returns why the device refuses to pair, or 0
// (and, with count, records one more failed attempt before returning).
func (d *Device) admit(count bool) (byte, error) {
	stateMu.Lock()
	defer stateMu.Unlock()
	s, err := d.Store.Load()
	if err != nil {
		return 0, errPairing(err)
	}
	if r := d.refusal(s); r != 0 {
		return r, nil
	}
	if count {
		s.Failures++
		if err := d.Store.Save(s); err != nil {
			return 0, errPairing(err)
		}
	}
	return 0, nil
}

// succeed resets the counter and leaves pairing mode.
func (d *Device) succeed() error {
	stateMu.Lock()
	defer stateMu.Unlock()
	return d.Store.Save(State{})
}

// Pair runs one pairing with an app over rw, which stands for the local
// link (a BLE characteristic stream, a socket on the device's access
// point, a serial line). It returns the end-to-end key and the app's
// provisioning payload, or an error matching [ErrPairing]; then nothing is
// paired, and the only state kept is the attempt counter, which counts
// every attempt that reached the point where a guess of the setup code
// could be tested and did not succeed.
//
// Pair needs the device in pairing mode ([Device.OpenWindow]) with fewer
// failed attempts than the limit; otherwise it tells the app so and returns
// [ErrWindowClosed] or [ErrAttemptsExhausted]. A success resets the
// counter and leaves pairing mode.
func (d *Device) Pair(ctx context.Context, rw io.ReadWriter) (*DeviceResult, error) {
	if d.Record == nil || d.Record.w0 == nil || d.Store == nil {
		return nil, reason.Newf(ErrPairing, nil, "no verification record or no store")
	}
	rec := d.Record
	l := &link{rw: rw, timeout: stepTimeout(d.StepTimeout)}

	// 1. hello: refuse early if the device would refuse anyway.
	p, err := l.receive(ctx, frameHello)
	if err != nil {
		return nil, err
	}
	if _, err := parseHello(p); err != nil {
		l.abort(ctx, abortOther)
		return nil, errPairing(err)
	}
	if r, err := d.admit(false); err != nil || r != 0 {
		if err != nil {
			return nil, err
		}
		l.abort(ctx, r)
		return nil, refusalError(r)
	}

	// 2. params: the record's public half and a fresh ML-KEM key.
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		return nil, errPairing(err)
	}
	params := &paramsMsg{
		nonce: make([]byte, nonceSize), kdf: rec.kdf, salt: rec.salt,
		deviceID: []byte(rec.deviceID), ek: dk.EncapsulationKey().Bytes(),
	}
	rand.Read(params.nonce)
	if err := l.send(ctx, frameParams, params.marshal()); err != nil {
		return nil, err
	}

	// 3. share: the app's guess of the code, hidden in shareP.
	p, err = l.receive(ctx, frameShare)
	if err != nil {
		return nil, err
	}
	sm, err := parseShare(p)
	if err != nil {
		l.abort(ctx, abortOther)
		return nil, errPairing(err)
	}
	// The answer to shareP lets its sender test one guess: count the
	// attempt durably before anything that depends on w0 leaves the device.
	if r, err := d.admit(true); err != nil || r != 0 {
		if err != nil {
			return nil, err
		}
		l.abort(ctx, r)
		return nil, refusalError(r)
	}
	ss, err := dk.Decapsulate(sm.ct)
	if err != nil { // only on a wrong length, which parseShare rules out
		return nil, errPairing(err)
	}
	y := randomScalar()
	shareV := share(y, rec.w0, pointN)
	lPoint, _ := parsePoint(rec.l)
	z, v, ok := verifierSecrets(y, rec.w0, lPoint, sm.shareP)
	if !ok {
		l.abort(ctx, abortAuthentication)
		return nil, errPairing(ErrAuthentication)
	}
	sched := keySchedule(&transcript{
		context:    spakeContext(l.frames[0], l.frames[1], sm.ct),
		idVerifier: []byte(rec.deviceID),
		shareP:     sm.shareP, shareV: shareV, z: z, v: v, w0: rec.w0,
	})

	// 4. confirmV.
	if err := l.send(ctx, frameConfirmV, (&confirmVMsg{shareV: shareV, confirmV: sched.confirmV}).marshal()); err != nil {
		return nil, err
	}

	// 5. confirmP: the app proves it knows the code.
	p, err = l.receive(ctx, frameConfirmP)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			err = errPairing(ErrAuthentication)
		}
		return nil, err
	}
	confirmP, err := parseMAC(p)
	if err != nil || !hmac.Equal(confirmP, sched.confirmP) {
		l.abort(ctx, abortAuthentication)
		return nil, errPairing(ErrAuthentication)
	}
	keys := deriveSessionKeys(sched.kShared, ss, l.frames)

	// 6. payload: the first use of the new key.
	p, err = l.receive(ctx, framePayload)
	if err != nil {
		return nil, err
	}
	plain, err := keys.openPayload(p)
	if err != nil {
		l.abort(ctx, abortAuthentication)
		return nil, errPairing(err)
	}
	prov, err := parseProvisioning(plain)
	if err != nil {
		l.abort(ctx, abortOther)
		return nil, errPairing(err)
	}

	// 7. done, then the stored state: paired.
	if err := l.send(ctx, frameDone, keys.doneMAC()); err != nil {
		return nil, err
	}
	if err := d.succeed(); err != nil {
		return nil, errPairing(err)
	}
	key, err := keys.e2eKey()
	if err != nil {
		return nil, err
	}
	return &DeviceResult{Key: key, Provisioning: *prov}, nil
}
