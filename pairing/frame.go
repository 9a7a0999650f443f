package pairing

import (
	"context"
	"crypto/mlkem"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// maxFrameSize is the largest frame payload, in bytes, that either side
// reads. A frame that announces more is refused ([ErrMalformed], with
// errTooLarge) before its payload is read.
const maxFrameSize = 4096

// frameVersion is the version byte that starts every frame.
const frameVersion = 1

const frameHeaderSize = 4 // version, type, length (2 bytes, big-endian)

// Frame types. Each type travels in one direction only, so a frame
// reflected back to its sender is of a type the sender never expects.
const (
	frameHello    = 1  // app → device: app nonce
	frameParams   = 2  // device → app: device nonce, KDF, salt, device id, ML-KEM key
	frameShare    = 3  // app → device: shareP, ML-KEM ciphertext
	frameConfirmV = 4  // device → app: shareV, confirmV
	frameConfirmP = 5  // app → device: confirmP
	framePayload  = 6  // app → device: the sealed provisioning payload
	frameDone     = 7  // device → app: MAC under the new key
	frameAbort    = 15 // either way: why the sender gave up
)

// Abort reasons.
const (
	abortWindowClosed   = 1
	abortAttempts       = 2
	abortAuthentication = 3
	abortOther          = 4
)

const nonceSize = 32

// appendFrame encodes one frame.
func appendFrame(b []byte, typ byte, payload []byte) []byte {
	if len(payload) > maxFrameSize {
		panic("pairing: frame payload too large")
	}
	b = append(b, frameVersion, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}

// parseFrame decodes exactly one frame from b: the frame fuzz target's
// entry point, and the rules readFrame applies to a stream.
func parseFrame(b []byte) (typ byte, payload []byte, err error) {
	if len(b) < frameHeaderSize {
		return 0, nil, errMalformed("frame truncated")
	}
	typ, n, err := parseHeader(b[:frameHeaderSize])
	if err != nil {
		return 0, nil, err
	}
	if len(b)-frameHeaderSize != n {
		if len(b)-frameHeaderSize < n {
			return 0, nil, errMalformed("frame truncated")
		}
		return 0, nil, errMalformed("frame has trailing bytes")
	}
	return typ, b[frameHeaderSize:], nil
}

func parseHeader(h []byte) (typ byte, n int, err error) {
	if h[0] != frameVersion {
		return 0, 0, reason.Newf(ErrUnsupportedVersion, nil, "frame version")
	}
	n = int(binary.BigEndian.Uint16(h[2:]))
	if n > maxFrameSize {
		return 0, 0, reason.New(ErrMalformed, errTooLarge)
	}
	return h[1], n, nil
}

// readFrame reads one frame from r and returns its type, its payload and
// its whole encoding (for the transcript).
func readFrame(r io.Reader) (typ byte, payload, raw []byte, err error) {
	var h [frameHeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, nil, linkError(err)
	}
	typ, n, err := parseHeader(h[:])
	if err != nil {
		return 0, nil, nil, err
	}
	raw = make([]byte, frameHeaderSize+n)
	copy(raw, h[:])
	if _, err := io.ReadFull(r, raw[frameHeaderSize:]); err != nil {
		return 0, nil, nil, linkError(err)
	}
	return typ, raw[frameHeaderSize:], raw, nil
}

// linkError turns an end of stream inside or before a frame into a
// truncated-frame error that keeps the I/O error.
func linkError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &reason.Fault{Category: ErrMalformed, Detail: "frame truncated", Cause: io.ErrUnexpectedEOF}
	}
	return err
}

// The messages, each with an exact length or exact fields: anything else
// is ErrMalformed.

type helloMsg struct{ nonce []byte }

func (m *helloMsg) marshal() []byte { return m.nonce }

func parseHello(p []byte) (*helloMsg, error) {
	if len(p) != nonceSize {
		return nil, errMalformed("hello frame of wrong length")
	}
	return &helloMsg{nonce: p}, nil
}

type paramsMsg struct {
	nonce    []byte
	kdf      KDFParams
	salt     []byte
	deviceID []byte
	ek       []byte // ML-KEM-768 encapsulation key
}

func (m *paramsMsg) marshal() []byte {
	b := appendHashParams(append([]byte(nil), m.nonce...), m.kdf, m.salt, m.deviceID)
	return append(b, m.ek...)
}

func parseParams(p []byte) (*paramsMsg, error) {
	d := decoder{b: p}
	m := &paramsMsg{nonce: d.bytes(nonceSize)}
	m.kdf, m.salt, m.deviceID = d.hashParams()
	m.ek = d.bytes(mlkem.EncapsulationKeySize768)
	if err := d.finish("params frame"); err != nil {
		return nil, err
	}
	if len(m.salt) < saltSize || len(m.salt) > maxSaltSize || len(m.deviceID) > maxDeviceIDLen {
		return nil, errMalformed("params frame salt or device id out of range")
	}
	return m, nil
}

type shareMsg struct{ shareP, ct []byte }

func (m *shareMsg) marshal() []byte { return append(append([]byte(nil), m.shareP...), m.ct...) }

func parseShare(p []byte) (*shareMsg, error) {
	if len(p) != pointSize+mlkem.CiphertextSize768 {
		return nil, errMalformed("share frame of wrong length")
	}
	return &shareMsg{shareP: p[:pointSize], ct: p[pointSize:]}, nil
}

type confirmVMsg struct{ shareV, confirmV []byte }

func (m *confirmVMsg) marshal() []byte {
	return append(append([]byte(nil), m.shareV...), m.confirmV...)
}

func parseConfirmV(p []byte) (*confirmVMsg, error) {
	if len(p) != pointSize+hashSize {
		return nil, errMalformed("confirmation frame of wrong length")
	}
	return &confirmVMsg{shareV: p[:pointSize], confirmV: p[pointSize:]}, nil
}

// parseMAC parses the confirmP and done frames: one HMAC-SHA256.
func parseMAC(p []byte) ([]byte, error) {
	if len(p) != hashSize {
		return nil, errMalformed("confirmation frame of wrong length")
	}
	return p, nil
}

func parseAbort(p []byte) (byte, error) {
	if len(p) != 1 || p[0] < abortWindowClosed || p[0] > abortOther {
		return 0, errMalformed("abort frame invalid")
	}
	return p[0], nil
}

// abortError is what a side returns when the other side aborted for why.
func abortError(why byte) error {
	switch why {
	case abortWindowClosed:
		return errRefused(ErrWindowClosed)
	case abortAttempts:
		return errRefused(ErrAttemptsExhausted)
	case abortAuthentication:
		return errPairing(ErrAuthentication)
	}
	return errRefused(nil)
}

// link is one side's end of a pairing session: it reads and writes frames
// with a deadline on every step and keeps the transcript of every frame
// sent and received.
type link struct {
	rw      io.ReadWriter
	timeout time.Duration
	frames  [][]byte // every frame sent or received, in order
}

// deadliner is the part of net.Conn that link uses when it has it.
type deadliner interface {
	SetDeadline(time.Time) error
}

// do runs one read or write of the link under ctx and the step timeout.
// A link with SetDeadline (a net.Conn) gets the deadline itself; on any
// other link the I/O runs in a goroutine and the step returns when ctx is
// done, leaving that goroutine blocked until the caller closes the link.
func (l *link) do(ctx context.Context, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := l.rw.(deadliner); ok {
		deadline, _ := ctx.Deadline()
		if err := dl.SetDeadline(deadline); err == nil {
			stop := context.AfterFunc(ctx, func() { dl.SetDeadline(time.Unix(1, 0)) })
			defer stop()
			err := f()
			dl.SetDeadline(time.Time{})
			if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
				return ctxErr
			}
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *link) send(ctx context.Context, typ byte, payload []byte) error {
	raw := appendFrame(nil, typ, payload)
	err := l.do(ctx, func() error {
		_, err := l.rw.Write(raw)
		return err
	})
	if err != nil {
		return errPairing(err)
	}
	l.frames = append(l.frames, raw)
	return nil
}

// receive reads the next frame and returns its payload if it is of type
// want. An abort frame becomes the error it carries; any other type is
// ErrMalformed (errUnexpectedFrame).
func (l *link) receive(ctx context.Context, want byte) ([]byte, error) {
	var typ byte
	var payload, raw []byte
	err := l.do(ctx, func() error {
		var err error
		typ, payload, raw, err = readFrame(l.rw)
		return err
	})
	if err != nil {
		return nil, errPairing(err)
	}
	if typ == frameAbort && want != frameAbort {
		why, err := parseAbort(payload)
		if err != nil {
			return nil, errPairing(err)
		}
		return nil, abortError(why)
	}
	if typ != want {
		return nil, errPairing(reason.New(ErrMalformed, errUnexpectedFrame))
	}
	l.frames = append(l.frames, raw)
	return payload, nil
}

// abort tells the other side why this side gives up, best effort and
// briefly: the session has already failed.
func (l *link) abort(ctx context.Context, reason byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	saved := l.timeout
	l.timeout = time.Second
	l.send(ctx, frameAbort, []byte{reason})
	l.timeout = saved
}
