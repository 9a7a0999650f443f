package totp

import "time"

// All defaults and caps in one place.
const (
	// period is the length of a time step (RFC 6238 X); it is fixed, as every
	// authenticator app assumes it.
	period = 30

	// defaultDigits is the code length of new enrollments: what every
	// authenticator app shows.
	defaultDigits = 6

	// minSecretBytes is the smallest secret accepted (160 bits, RFC 4226
	// §4 R6, and the size RFC 6238 uses for HMAC-SHA1); maxSecretBytes
	// caps secrets read from key URIs.
	minSecretBytes = 20
	maxSecretBytes = 128

	// defaultWindow is how many steps either side of the expected one are
	// accepted (RFC 6238 §5.2 recommends one); maxWindow caps Config.Window.
	defaultWindow = 1
	maxWindow     = 4

	// defaultMaxDrift is how far, in steps, the recorded drift may move the
	// centre of the window (RFC 6238 §6); maxMaxDrift caps Config.MaxDrift.
	defaultMaxDrift = 2
	maxMaxDrift     = 10

	// defaultMaxFailures is how many failed codes in a row are allowed
	// before the account is locked (RFC 4226 §7.3); maxMaxFailures caps
	// Config.MaxFailures.
	defaultMaxFailures = 5
	maxMaxFailures     = 20

	// defaultLockout is the first lockout; each further failure doubles it,
	// up to defaultMaxLockout.
	defaultLockout    = time.Minute
	defaultMaxLockout = time.Hour

	// defaultEnrollmentTimeout is how long a pending enrollment can be
	// confirmed; minEnrollmentTimeout is the least Config.EnrollmentTimeout
	// accepted (two time steps would not leave a person time to scan).
	defaultEnrollmentTimeout = 15 * time.Minute
	minEnrollmentTimeout     = time.Minute

	// maxCodeInput caps the length of a submitted code, spaces included,
	// before any other processing.
	maxCodeInput = 64

	// maxNameBytes caps issuer and account names; maxURIBytes caps key URIs.
	maxNameBytes = 256
	maxURIBytes  = 2048

	// recoveryCodes is how many recovery codes a set holds;
	// recoveryCodeChars is the length of each (5 bits per character: 80
	// bits).
	recoveryCodes     = 10
	recoveryCodeChars = 16

	// casAttempts bounds how often an operation retries when another
	// server changed the account's record between its read and its write.
	casAttempts = 256

	// encryptionKeyBytes is the size of a key that encrypts secrets at
	// rest (AES-256-GCM); maxKeyIDBytes caps its id.
	encryptionKeyBytes = 32
	maxKeyIDBytes      = 64
)
