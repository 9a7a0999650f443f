package pairing

import (
	"bytes"
	"context"
	"crypto/mlkem"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzFrame feeds arbitrary bytes to the frame parser and to the parser of
// each message: no panic, and whatever parses encodes back to the same
// bytes.
func FuzzFrame(f *testing.F) {
	f.Add(appendFrame(nil, frameHello, make([]byte, nonceSize)))
	f.Add(appendFrame(nil, frameConfirmV, make([]byte, pointSize+hashSize)))
	f.Add(appendFrame(nil, frameAbort, []byte{abortAttempts}))
	f.Add(appendFrame(nil, frameParams, (&paramsMsg{nonce: make([]byte, nonceSize), kdf: testKDF, salt: make([]byte, saltSize), deviceID: []byte("d"), ek: make([]byte, mlkem.EncapsulationKeySize768)}).marshal()))
	f.Add([]byte{frameVersion, frameHello, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, payload, err := parseFrame(b)
		// The stream reader agrees with the one-shot parser.
		styp, spayload, _, serr := readFrame(bytes.NewReader(b))
		if err != nil {
			if serr == nil {
				require.Greater(t, len(b), frameHeaderSize+len(spayload), "stream reader accepted what the parser refused")
			}
			return
		}
		require.NoError(t, serr)
		require.Equal(t, typ, styp)
		require.Equal(t, payload, spayload)
		require.Equal(t, b, appendFrame(nil, typ, payload))
		switch typ {
		case frameHello:
			if m, err := parseHello(payload); err == nil {
				require.Equal(t, payload, m.marshal())
			}
		case frameParams:
			if m, err := parseParams(payload); err == nil {
				require.Equal(t, payload, m.marshal())
			}
		case frameShare:
			if m, err := parseShare(payload); err == nil {
				require.Equal(t, payload, m.marshal())
			}
		case frameConfirmV:
			if m, err := parseConfirmV(payload); err == nil {
				require.Equal(t, payload, m.marshal())
			}
		case frameConfirmP, frameDone:
			parseMAC(payload)
		case frameAbort:
			if r, err := parseAbort(payload); err == nil {
				require.Equal(t, payload, []byte{r})
			}
		}
	})
}

// FuzzRecord feeds arbitrary bytes to ParseRecord: no panic, and a parsed
// record encodes back to the same bytes.
func FuzzRecord(f *testing.F) {
	rec, err := NewRecord(NewSetupCode(), "dev", testKDF)
	require.NoError(f, err)
	b, _ := rec.MarshalBinary()
	f.Add(b)
	f.Add(recordMagic)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			return
		}
		out, err := r.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

// FuzzState feeds arbitrary bytes to State.UnmarshalBinary.
func FuzzState(f *testing.F) {
	b, _ := State{Failures: 2, WindowOpened: t0}.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if s.UnmarshalBinary(b) != nil {
			return
		}
		out, err := s.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

// FuzzProvisioning feeds arbitrary bytes to the payload parser.
func FuzzProvisioning(f *testing.F) {
	f.Add(testProvisioning.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseProvisioning(b)
		if err != nil {
			return
		}
		require.Equal(t, b, p.marshal())
	})
}

// FuzzSetupCode feeds arbitrary text to ParseSetupCode.
func FuzzSetupCode(f *testing.F) {
	f.Add(NewSetupCode().Printed())
	f.Add(NewSetupCode().QRPayload())
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSetupCode(s)
		if err != nil {
			return
		}
		back, err := ParseSetupCode(c.Printed())
		require.NoError(t, err)
		require.Equal(t, c, back)
	})
}

// fastW replaces Argon2id in the state-machine fuzz targets, which test
// the protocol's handling of frames, not the password hash.
func fastW(t testing.TB) {
	saved := deriveW
	deriveW = func(code SetupCode, idProver, idVerifier, salt []byte, _ KDFParams) ([]byte, []byte) {
		var in []byte
		in = appendLV(in, []byte(code.digits))
		in = appendLV(in, idProver)
		in = appendLV(in, idVerifier)
		in = appendLV(in, salt)
		h0, h1 := macSHA256(in, []byte("w0")), macSHA256(in, []byte("w1"))
		return splitW(append(append(append(h0, h0[:8]...), h1...), h1[:8]...))
	}
	t.Cleanup(func() { deriveW = saved })
}

// script is a link that reads from a fixed input and discards what is
// written: one side's view of a peer that sends the fuzzer's frames.
type script struct {
	io.Reader
	io.Writer
}

// joinFrames is what a peer sends: its frames one after the other.
func joinFrames(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// FuzzDevice runs the device's state machine on arbitrary frames from the
// app: no panic, no success without the code, and no stored change but
// one counted attempt.
func FuzzDevice(f *testing.F) {
	fastW(f)
	fx := newFixture(f)
	hello := appendFrame(nil, frameHello, make([]byte, nonceSize))
	x := randomScalar()
	share := appendFrame(nil, frameShare, (&shareMsg{shareP: mulBase(x).Bytes(), ct: make([]byte, mlkem.CiphertextSize768)}).marshal())
	f.Add(joinFrames(hello, share, appendFrame(nil, frameConfirmP, make([]byte, hashSize))))
	f.Add(joinFrames(hello, share))
	f.Add(hello)
	f.Add(joinFrames(hello, appendFrame(nil, frameAbort, []byte{abortOther})))
	f.Fuzz(func(t *testing.T, in []byte) {
		store := &memStore{s: State{WindowOpened: t0}}
		dev := &Device{Record: fx.rec, Store: store, Now: fx.clock.Now}
		res, err := dev.Pair(context.Background(), &script{bytes.NewReader(in), io.Discard})
		require.Error(t, err)
		require.ErrorIs(t, err, ErrPairing)
		require.Nil(t, res)
		s := store.state()
		require.LessOrEqual(t, s.Failures, 1)
		require.Equal(t, t0, s.WindowOpened)
	})
}

// FuzzApp runs the app's state machine on arbitrary frames from a device:
// no panic, no key without a device that holds the code's record.
func FuzzApp(f *testing.F) {
	fastW(f)
	code := NewSetupCode()
	dk, err := mlkem.GenerateKey768()
	require.NoError(f, err)
	params := appendFrame(nil, frameParams, (&paramsMsg{nonce: make([]byte, nonceSize), kdf: testKDF, salt: make([]byte, saltSize), deviceID: []byte("dev"), ek: dk.EncapsulationKey().Bytes()}).marshal())
	y := randomScalar()
	confirmV := appendFrame(nil, frameConfirmV, (&confirmVMsg{shareV: mulBase(y).Bytes(), confirmV: make([]byte, hashSize)}).marshal())
	f.Add(joinFrames(params, confirmV, appendFrame(nil, frameDone, make([]byte, hashSize))))
	f.Add(params)
	f.Add(appendFrame(nil, frameAbort, []byte{abortWindowClosed}))
	f.Fuzz(func(t *testing.T, in []byte) {
		var app App
		key, err := app.Pair(context.Background(), &script{bytes.NewReader(in), io.Discard}, code, testProvisioning)
		require.Error(t, err)
		require.ErrorIs(t, err, ErrPairing)
		require.Nil(t, key)
	})
}
