package totp

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/latchsec/latch/internal/reason"
)

// Config configures an [Authenticator]. Issuer, Store and EncryptionKeys
// are required; every other field is safe when left zero, and zero means the
// default named in its comment.
type Config struct {
	// Issuer is the name of the service, shown by authenticator apps
	// beside the account name. It may not contain a colon.
	Issuer string

	// Store keeps each account's record: a [*MemoryStore] for a single
	// server, totp/redisstore for a fleet.
	Store Store

	// EncryptionKeys encrypt TOTP secrets at rest in the store
	// (AES-256-GCM). The first encrypts; all decrypt, so that a key can be
	// rotated: put the new key first and keep the old ones until every
	// record has been re-encrypted (a record is re-encrypted with the
	// first key at each successful code).
	EncryptionKeys []EncryptionKey

	// Algorithm and Digits are those of new enrollments: SHA1 and 6 by
	// default, which every authenticator app supports. Use SHA256, SHA512
	// or 8 digits only for apps known to support them (some apps accept
	// them and show wrong codes).
	Algorithm Algorithm
	Digits    int

	// Window is how many time steps either side of the expected one are
	// accepted: 1 by default (RFC 6238 §5.2), at most 4. Each step more
	// adds two codes an attacker's guess can match.
	Window int

	// MaxDrift caps, in steps, the clock drift recorded for a person's
	// device, on which the window is centred (RFC 6238 §6): 2 by default,
	// at most 10.
	MaxDrift int

	// MaxFailures is how many failed codes in a row lock the account: 5 by
	// default, at most 20. The first lockout lasts Lockout (1 minute by
	// default); each further failure doubles it, up to MaxLockout (1 hour
	// by default). A success resets the count.
	MaxFailures int
	Lockout     time.Duration
	MaxLockout  time.Duration

	// EnrollmentTimeout is how long after Enroll (or EnrollKey) the
	// enrollment can be confirmed: 15 minutes by default, at least one
	// minute. Later, Confirm refuses every code (ErrEnrollmentExpired) and
	// the person enrolls again, with a new key: a QR code left on a screen
	// or in a screenshot stops being worth anything.
	EnrollmentTimeout time.Duration

	// Now returns the current time; time.Now by default. Tests set it.
	Now func() time.Time
}

// Authenticator enrolls accounts and verifies their codes. It is safe for
// concurrent use, and several servers may share its Store.
type Authenticator struct {
	issuer      string
	store       Store
	enc         *encrypter
	alg         Algorithm
	digits      int
	window      int
	maxDrift    int
	maxFailures int
	lockout     time.Duration
	maxLockout  time.Duration
	enrollment  time.Duration
	now         func() time.Time
}

// New returns an Authenticator, or an error matching [ErrInvalidConfig]
// that says which field is wrong.
func New(c Config) (*Authenticator, error) {
	invalid := func(format string, args ...any) (*Authenticator, error) {
		return nil, invalidConfig(format, args...)
	}
	if !validName(c.Issuer, false) {
		return invalid("Issuer must be 1 to %d bytes of UTF-8 without a colon or control characters", maxNameBytes)
	}
	if c.Store == nil {
		return invalid("no Store")
	}
	enc, err := newEncrypter(c.EncryptionKeys)
	if err != nil {
		return nil, err
	}
	a := &Authenticator{
		issuer: c.Issuer, store: c.Store, enc: enc, alg: c.Algorithm, digits: c.Digits,
		window: c.Window, maxDrift: c.MaxDrift, maxFailures: c.MaxFailures,
		lockout: c.Lockout, maxLockout: c.MaxLockout, enrollment: c.EnrollmentTimeout, now: c.Now,
	}
	if !a.alg.valid() {
		return invalid("unknown Algorithm %v", a.alg)
	}
	if a.digits == 0 {
		a.digits = defaultDigits
	}
	if !validDigits(a.digits) {
		return invalid("Digits must be 6 or 8")
	}
	if a.window == 0 {
		a.window = defaultWindow
	}
	if a.window < 0 || a.window > maxWindow {
		return invalid("Window must be 1 to %d", maxWindow)
	}
	if a.maxDrift == 0 {
		a.maxDrift = defaultMaxDrift
	}
	if a.maxDrift < 0 || a.maxDrift > maxMaxDrift {
		return invalid("MaxDrift must be 1 to %d", maxMaxDrift)
	}
	if a.maxFailures == 0 {
		a.maxFailures = defaultMaxFailures
	}
	if a.maxFailures < 0 || a.maxFailures > maxMaxFailures {
		return invalid("MaxFailures must be 1 to %d", maxMaxFailures)
	}
	if a.lockout == 0 {
		a.lockout = defaultLockout
	}
	if a.maxLockout == 0 {
		a.maxLockout = defaultMaxLockout
	}
	if a.lockout < time.Second || a.maxLockout < a.lockout {
		return invalid("Lockout must be at least a second and MaxLockout at least Lockout")
	}
	if a.enrollment == 0 {
		a.enrollment = defaultEnrollmentTimeout
	}
	if a.enrollment < minEnrollmentTimeout {
		return invalid("EnrollmentTimeout must be at least %v", minEnrollmentTimeout)
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// checkAccount refuses account ids that no store should key on.
func checkAccount(account string) error {
	if account == "" || len(account) > maxNameBytes || !utf8.ValidString(account) {
		return reason.New(ErrInvalidAccount, nil)
	}
	return nil
}

// mutate runs fn on the account's record (nil if there is none) and writes
// what it returns when write is set (next == nil deletes), retrying from a
// fresh read when another server changed the record in between. It returns
// fn's result once the write, if any, succeeded.
func (a *Authenticator) mutate(ctx context.Context, account string, fn func(r *Record, now time.Time) (next *Record, write bool, result error)) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	for range casAttempts {
		r, err := a.store.Load(ctx, account)
		var version uint64
		switch {
		case errors.Is(err, ErrNotEnrolled):
			r = nil
		case err != nil:
			return err
		default:
			version = r.Version
		}
		next, write, result := fn(r, a.now())
		if !write {
			return result
		}
		ok, err := a.store.CompareAndSwap(ctx, account, version, next)
		if err != nil {
			return err
		}
		if ok {
			return result
		}
	}
	return reason.New(ErrStoreConflict, nil)
}

// Enroll starts an enrollment for account, the id under which the store
// keeps it, with a new random secret, and returns the key to show to the
// person: [Key.QRCode] for the app to scan, [Key.SecretBase32] to type. name
// is the account name the app shows (an e-mail address, say); empty means
// account. The enrollment is pending until [Authenticator.Confirm] gets a
// valid code, which it must within Config.EnrollmentTimeout; enrolling
// again before that replaces the key. An account whose enrollment is
// confirmed gets [ErrAlreadyEnrolled]: unenroll it first.
func (a *Authenticator) Enroll(ctx context.Context, account, name string) (Key, error) {
	k, err := a.newKey(account, name)
	if err != nil {
		return Key{}, err
	}
	if err := a.enroll(ctx, account, k); err != nil {
		return Key{}, err
	}
	return k, nil
}

// newKey makes a key for account named name (account if empty), with a
// new random secret.
func (a *Authenticator) newKey(account, name string) (Key, error) {
	if name == "" {
		name = account
	}
	k, err := generateKey(a.issuer, name, a.alg, a.digits)
	if err != nil {
		return Key{}, invalidKeyURI("the name is empty, too long, not UTF-8, or has a colon or control characters")
	}
	return k, checkKeyURI(k)
}

// EnrollKey starts an enrollment for account with a key made elsewhere (an
// app or a hardware token that shows a key URI; see [ParseKeyURI]). It is
// pending until confirmed, as with Enroll.
func (a *Authenticator) EnrollKey(ctx context.Context, account string, k Key) error {
	if len(k.secret) < minSecretBytes || !k.alg.valid() || !validDigits(k.digits) {
		return invalidKeyURI("not a key from ParseKeyURI or Enroll")
	}
	if err := checkKeyURI(k); err != nil {
		return err
	}
	return a.enroll(ctx, account, k)
}

func (a *Authenticator) enroll(ctx context.Context, account string, k Key) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	encrypted := a.enc.encrypt(account, k.alg, k.digits, k.secret)
	return a.mutate(ctx, account, func(r *Record, now time.Time) (*Record, bool, error) {
		if r == nil {
			r = &Record{}
		}
		if r.Confirmed {
			return nil, false, reason.New(ErrAlreadyEnrolled, nil)
		}
		// A pending enrollment is replaced; its lockout and last step
		// stay, so enrolling again resets neither.
		r.Secret, r.Algorithm, r.Digits, r.Drift, r.Enrolled = encrypted, k.alg, k.digits, 0, now
		return r, true, nil
	})
}

// checkKeyURI refuses a key that ParseKeyURI would refuse and no QR code
// could hold: names that escape to more than the URI's cap.
func checkKeyURI(k Key) error {
	if len(k.URI()) > maxURIBytes {
		return invalidKeyURI(fmt.Sprintf("the key URI would be longer than %d bytes; shorten the issuer or account name", maxURIBytes))
	}
	return nil
}

// Confirm completes a pending enrollment with the first code the person's
// app shows. It checks the code as Verify does (and the code may not be
// used again); on success the enrollment is active. An error matching
// [ErrRefused] means the code was refused (with reason ErrEnrollmentExpired
// once Config.EnrollmentTimeout has passed since Enroll: enroll again); any
// other error means it could not be checked.
func (a *Authenticator) Confirm(ctx context.Context, account, code string) error {
	return a.checkCode(ctx, account, code, true)
}

// Verify checks a code for a confirmed enrollment. It returns nil if the
// code is right for a time step within the window and later than the last
// step accepted for the account; then no code of that step or an earlier
// one will be accepted again. Otherwise it returns a [*RefusedError]
// (matching [ErrRefused]) whose Reason is ErrInvalidCode, ErrMalformedCode,
// ErrReplayed, ErrThrottled or ErrNotEnrolled, or another error if the code
// could not be checked (the store failed, the secret does not open). Treat
// every error as a refusal.
//
// ASCII spaces in code are ignored; anything else but the enrollment's
// number of digits is malformed.
func (a *Authenticator) Verify(ctx context.Context, account, code string) error {
	return a.checkCode(ctx, account, code, false)
}

func (a *Authenticator) checkCode(ctx context.Context, account, code string, confirm bool) error {
	if len(code) > maxCodeInput {
		return refused(ErrMalformedCode)
	}
	return a.mutate(ctx, account, func(r *Record, now time.Time) (*Record, bool, error) {
		switch {
		case r == nil || !confirm && !r.Confirmed:
			return nil, false, refused(ErrNotEnrolled)
		case confirm && r.Confirmed:
			return nil, false, refused(ErrAlreadyEnrolled)
		case confirm && !now.Before(r.Enrolled.Add(a.enrollment)):
			return nil, false, refused(ErrEnrollmentExpired)
		case now.Before(r.LockedUntil):
			return nil, false, lockedOut(ErrThrottled, r.LockedUntil)
		}
		match, replayed, keyID, err := a.match(account, r.Secret, r.Algorithm, r.Digits, code, r.Drift, r.LastStep, now)
		switch {
		case err != nil:
			return nil, false, err
		case match > 0:
			r.Confirmed = true
			return a.accept(account, r, match, keyID, now)
		case replayed:
			return nil, false, refused(ErrReplayed)
		}
		return a.fail(r, now)
	})
}

// accept records in r a code accepted for step match of its key, encrypted
// under keyID: the step becomes the last, its offset the drift, failures
// are forgotten, and the secret is re-encrypted under the first encryption
// key if it was under another. It returns r to write.
func (a *Authenticator) accept(account string, r *Record, match int64, keyID string, now time.Time) (*Record, bool, error) {
	r.LastStep, r.Drift = match, clamp(int(match-step(now)), a.maxDrift)
	r.Failures, r.LockedUntil = 0, time.Time{}
	if keyID != a.enc.active {
		if err := a.reencrypt(account, r); err != nil {
			return nil, false, err
		}
	}
	return r, true, nil
}

// match checks code against the encrypted secret of a key in the window
// around now moved by drift, and returns the step it matches (0: none),
// whether it matches a step at or before lastStep instead (a replay), and
// the id of the encryption key the secret was under. A malformed code is a
// *RefusedError; a secret that does not decrypt, ErrSecretUnreadable.
func (a *Authenticator) match(account string, encrypted []byte, alg Algorithm, digits int, code string, drift int, lastStep int64, now time.Time) (int64, bool, string, error) {
	if !alg.valid() || !validDigits(digits) {
		return 0, false, "", unreadable("record's algorithm or digits out of range")
	}
	v, err := parseCode(code, digits)
	if err != nil {
		return 0, false, "", refused(err)
	}
	secret, keyID, err := a.enc.decrypt(account, alg, digits, encrypted)
	if err != nil {
		return 0, false, "", err
	}
	g := newGenerator(secret, alg, digits)
	clear(secret)
	centre := step(now) + int64(clamp(drift, a.maxDrift))
	match, replayed := find(&g, v, centre, a.window, lastStep)
	g.clear()
	return match, replayed, keyID, nil
}

// find looks for the code value v in the window of steps around centre,
// and returns the step it matches, or whether it matches a step at or
// before lastStep (a replay). Steps after lastStep come first, the centre
// first and then outwards (centre, -1, +1, -2, +2, ...), so the usual
// code costs one HMAC; a wrong code costs the whole window, whatever
// lastStep is, so its timing does not tell when the account last signed in.
// Each comparison is in constant time.
func find(g *generator, v uint32, centre int64, window int, lastStep int64) (match int64, replayed bool) {
	n := 2*window + 1
	for i := range n {
		if s := windowStep(centre, i); s > lastStep && s >= 1 && equal(g.value(uint64(s)), v) {
			return s, false
		}
	}
	for i := range n {
		if s := windowStep(centre, i); s <= lastStep && s >= 1 && equal(g.value(uint64(s)), v) {
			replayed = true
		}
	}
	return 0, replayed
}

// windowStep returns the i-th step of the window: centre, centre-1,
// centre+1, centre-2, ...
func windowStep(centre int64, i int) int64 {
	if i%2 == 1 {
		return centre - int64(i+1)/2
	}
	return centre + int64(i)/2
}

// fail counts a failed code and locks the account when there were too
// many.
func (a *Authenticator) fail(r *Record, now time.Time) (*Record, bool, error) {
	r.Failures++
	if r.Failures < a.maxFailures {
		return r, true, refused(ErrInvalidCode)
	}
	r.LockedUntil = now.Add(a.lockoutAfter(r.Failures))
	return r, true, lockedOut(ErrInvalidCode, r.LockedUntil)
}

// lockoutAfter returns the lockout after the given number of failures (at
// least maxFailures): Lockout, doubled for each failure beyond
// maxFailures, capped at MaxLockout.
func (a *Authenticator) lockoutAfter(failures int) time.Duration {
	d := a.lockout
	for range failures - a.maxFailures {
		if d > a.maxLockout/2 {
			return a.maxLockout
		}
		d *= 2
	}
	return min(d, a.maxLockout)
}

// reencrypt encrypts r's secret again under the first encryption key.
func (a *Authenticator) reencrypt(account string, r *Record) error {
	secret, _, err := a.enc.decrypt(account, r.Algorithm, r.Digits, r.Secret)
	if err != nil {
		return err
	}
	r.Secret = a.enc.encrypt(account, r.Algorithm, r.Digits, secret)
	clear(secret)
	return nil
}

func clamp(v, limit int) int { return max(-limit, min(v, limit)) }

// Unenroll deletes the account's enrollment, its state and its recovery
// codes. It returns [ErrNotEnrolled] if there is none.
func (a *Authenticator) Unenroll(ctx context.Context, account string) error {
	return a.mutate(ctx, account, func(r *Record, now time.Time) (*Record, bool, error) {
		if r == nil {
			return nil, false, reason.New(ErrNotEnrolled, nil)
		}
		return nil, true, nil
	})
}
