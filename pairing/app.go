package pairing

import (
	"context"
	"crypto/hmac"
	"crypto/mlkem"
	"crypto/rand"
	"io"
	"time"

	"github.com/latchsec/latch/sealedbox/e2e"
)

// An App is the app's side of pairing: RFC 9383's prover, with the setup
// code the person typed or scanned. The zero App is ready to use.
type App struct {
	// StepTimeout bounds each read and write of a pairing, on top of the
	// caller's context; 0 means 30 seconds.
	StepTimeout time.Duration
}

// Pair runs one pairing with a device over rw, proving knowledge of code,
// and hands the device p once both sides have confirmed the key. It
// returns the 256-bit end-to-end key, the same as the device's, ready for
// sealedbox/e2e's wrapping and messages, or an error matching
// [ErrPairing]: [ErrAuthentication] when the device does not hold the
// record of this code (a wrong code, another device, someone in the
// middle) or a frame was altered; [ErrRefused] when the device refused
// (also matching [ErrWindowClosed] or [ErrAttemptsExhausted]).
//
// The app reveals nothing that depends on the code before the device has
// proven it holds the code's record, so a fake device learns at most
// whether one guess was right.
func (a *App) Pair(ctx context.Context, rw io.ReadWriter, code SetupCode, p Provisioning) (*e2e.Key, error) {
	if code.IsZero() {
		return nil, errPairing(errCode("zero setup code"))
	}
	if err := p.check(); err != nil {
		return nil, errPairing(err)
	}
	l := &link{rw: rw, timeout: stepTimeout(a.StepTimeout)}

	// 1. hello.
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	if err := l.send(ctx, frameHello, nonce); err != nil {
		return nil, err
	}

	// 2. params: bounded work, then w0 and w1 from the code.
	pp, err := l.receive(ctx, frameParams)
	if err != nil {
		return nil, err
	}
	params, err := parseParams(pp)
	if err != nil {
		l.abort(ctx, abortOther)
		return nil, errPairing(err)
	}
	if !params.kdf.valid() {
		l.abort(ctx, abortOther)
		return nil, errPairing(ErrWorkFactor)
	}
	ek, err := mlkem.NewEncapsulationKey768(params.ek)
	if err != nil {
		l.abort(ctx, abortOther)
		return nil, errPairing(errMalformed("params frame ML-KEM key invalid"))
	}
	w0, w1 := deriveW(code, nil, params.deviceID, params.salt, params.kdf)
	ss, ct := ek.Encapsulate()

	// 3. share.
	x := randomScalar()
	shareP := share(x, w0, pointM)
	if err := l.send(ctx, frameShare, (&shareMsg{shareP: shareP, ct: ct}).marshal()); err != nil {
		return nil, err
	}

	// 4. confirmV: the device proves it holds the code's record.
	pv, err := l.receive(ctx, frameConfirmV)
	if err != nil {
		return nil, err
	}
	cv, err := parseConfirmV(pv)
	if err != nil {
		l.abort(ctx, abortOther)
		return nil, errPairing(err)
	}
	z, v, ok := proverSecrets(x, w0, w1, cv.shareV)
	if !ok {
		l.abort(ctx, abortAuthentication)
		return nil, errPairing(ErrAuthentication)
	}
	sched := keySchedule(&transcript{
		context:    spakeContext(l.frames[0], l.frames[1], ct),
		idVerifier: params.deviceID,
		shareP:     shareP, shareV: cv.shareV, z: z, v: v, w0: w0,
	})
	if !hmac.Equal(cv.confirmV, sched.confirmV) {
		l.abort(ctx, abortAuthentication)
		return nil, errPairing(ErrAuthentication)
	}

	// 5. confirmP.
	if err := l.send(ctx, frameConfirmP, sched.confirmP); err != nil {
		return nil, err
	}
	keys := deriveSessionKeys(sched.kShared, ss, l.frames)

	// 6. payload.
	if err := l.send(ctx, framePayload, keys.sealPayload(p.marshal())); err != nil {
		return nil, err
	}

	// 7. done: the device has the same key and took the payload.
	pd, err := l.receive(ctx, frameDone)
	if err != nil {
		return nil, err
	}
	mac, err := parseMAC(pd)
	if err != nil || !hmac.Equal(mac, keys.doneMAC()) {
		return nil, errPairing(ErrAuthentication)
	}
	return keys.e2eKey()
}
