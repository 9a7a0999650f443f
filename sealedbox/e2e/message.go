package e2e

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"math"
	"sync"

	"github.com/latchsec/latch/internal/reason"
	"golang.org/x/crypto/chacha20poly1305"
)

// maxPlaintextSize is the largest plaintext of a message: 1 MiB, as for
// sealedbox's envelopes.
const maxPlaintextSize = 1 << 20

// End-to-end message layout (FORMAT.md):
//
//	"LSM" ‖ version ‖ sequence number (8, big endian) ‖ nonce (24) ‖ ciphertext
//
// XChaCha20-Poly1305 under the end-to-end key; the additional data is the
// 12-byte header followed by the caller's context.
var messageMagic = [3]byte{'L', 'S', 'M'}

const (
	messageVersion    = 1
	messageHeaderSize = 3 + 1 + 8
	messageOverhead   = messageHeaderSize + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
)

// A Sender seals the messages of one end-to-end channel: one direction
// (such as app to device) under one end-to-end key and one context. Each
// message carries the next sequence number, starting after the one given
// to [NewSender]. A Sender is safe for concurrent use.
//
// The cloud that relays the messages can neither read nor alter them, and
// the matching [Receiver] refuses one that is replayed or delivered out of
// order. Messages of one channel do not open on another: the context (such
// as the device id and the kind of message) is bound to each message.
//
// One channel has one sender. If several apps of the same person send to a
// device, give each its own channel, with a context that names the app.
type Sender struct {
	mu      sync.Mutex
	aead    cipher.AEAD
	context []byte
	last    uint64
}

// NewSender returns the sender of the channel with end-to-end key key and
// context. last is the sequence number of the last message the channel
// sent, 0 for a new channel; the caller keeps it across restarts with
// [Sender.Last], so that numbers never go back (the receiver would refuse
// the messages as replays).
func NewSender(key *Key, context []byte, last uint64) (*Sender, error) {
	aead, err := newMessageAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Sender{aead: aead, context: bytes.Clone(context), last: last}, nil
}

// Seal encrypts plaintext (at most 1 MiB, or [ErrTooLarge]) as the
// channel's next message. The message is 52 bytes longer than plaintext.
func (s *Sender) Seal(plaintext []byte) ([]byte, error) {
	if len(plaintext) > maxPlaintextSize {
		return nil, reason.Newf(ErrTooLarge, nil, "plaintext longer than 1 MiB")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == math.MaxUint64 {
		return nil, reason.Newf(errSeal, nil, "the channel exhausted its sequence numbers")
	}
	s.last++
	out := make([]byte, messageHeaderSize+chacha20poly1305.NonceSizeX, messageOverhead+len(plaintext))
	copy(out, messageMagic[:])
	out[3] = messageVersion
	binary.BigEndian.PutUint64(out[4:], s.last)
	nonce := out[messageHeaderSize:]
	rand.Read(nonce)
	return s.aead.Seal(out, nonce, plaintext, messageAD(out[:messageHeaderSize], s.context)), nil
}

// Last returns the sequence number of the last message sealed. Persist it
// and pass it to [NewSender] when the sender restarts.
func (s *Sender) Last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// A Receiver opens the messages of one end-to-end channel (see [Sender])
// and accepts each sequence number only if it is above the highest one
// accepted so far. A Receiver is safe for concurrent use.
//
// The highest sequence number is the only defense against replay, and it is
// the caller's to keep: persist [Receiver.Highest] after each message is
// accepted, before acting on it, and pass it to [NewReceiver] after a
// restart. A receiver that starts again from an older value accepts again
// every message it accepted since.
type Receiver struct {
	mu      sync.Mutex
	aead    cipher.AEAD
	context []byte
	highest uint64
}

// NewReceiver returns the receiver of the channel with end-to-end key key
// and context. highest is the highest sequence number it accepted before, 0
// for a new channel.
func NewReceiver(key *Key, context []byte, highest uint64) (*Receiver, error) {
	aead, err := newMessageAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Receiver{aead: aead, context: bytes.Clone(context), highest: highest}, nil
}

// Open decrypts a message of the channel and returns its plaintext and
// sequence number. A message that is authentic but whose sequence number is
// not above [Receiver.Highest] fails with [ErrReplay]; every failure, that
// one included, matches [ErrOpen].
func (r *Receiver) Open(message []byte) (plaintext []byte, seq uint64, err error) {
	if len(message) < 4 || [3]byte(message[:3]) != messageMagic {
		return nil, 0, errOpen(errMalformed)
	}
	if message[3] != messageVersion {
		return nil, 0, errOpen(errUnsupportedVersion)
	}
	if len(message) < messageOverhead {
		return nil, 0, errOpen(errMalformed)
	}
	if len(message) > messageOverhead+maxPlaintextSize {
		return nil, 0, errOpen(ErrTooLarge)
	}
	header := message[:messageHeaderSize]
	nonce := message[messageHeaderSize : messageHeaderSize+chacha20poly1305.NonceSizeX]
	pt, err := r.aead.Open(nil, nonce, message[len(header)+len(nonce):], messageAD(header, r.context))
	if err != nil {
		return nil, 0, reason.Newf(ErrOpen, nil, messageAuthFailed)
	}
	seq = binary.BigEndian.Uint64(header[4:])
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq <= r.highest {
		return nil, 0, errOpen(ErrReplay)
	}
	r.highest = seq
	return pt, seq, nil
}

// Highest returns the highest sequence number accepted so far.
func (r *Receiver) Highest() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.highest
}

func newMessageAEAD(key *Key) (cipher.AEAD, error) {
	if !key.valid() {
		return nil, errKey("a channel with an invalid end-to-end key")
	}
	return key.aead(), nil
}

func messageAD(header, context []byte) []byte {
	ad := make([]byte, 0, len(header)+len(context))
	ad = append(ad, header...)
	return append(ad, context...)
}
