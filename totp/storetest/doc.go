// Package storetest checks that a [totp.Store] keeps its contract. Whoever
// writes a Store for their own database calls [Run] from that Store's
// tests, as totp's [totp.MemoryStore] and totp/redisstore do:
//
//	func TestStoreContract(t *testing.T) {
//		storetest.Run(t, mystore.New(db)) // a fresh, empty store
//	}
//
// Run checks each guarantee in a subtest named after it, so a failure says
// which guarantee the Store breaks.
//
// # What a Store must guarantee
//
// totp's one-time use of codes and its count of wrong guesses rest on the
// Store: a Store that loses a write lets a code be used twice, or a
// guesser go on past the lockout. These are the checks, by subtest name:
//
//   - NotEnrolled: Load of an account with no record returns an error that
//     matches [totp.ErrNotEnrolled].
//   - Create: CompareAndSwap with version 0 creates a record only where
//     there is none; a non-zero version creates nothing.
//   - CompareAndSwap: the stored version wins, and the record gets a new
//     version; any other version loses, returns false with no error, and
//     changes nothing.
//   - Delete: a nil record deletes, under the same compare; Load then
//     reports ErrNotEnrolled.
//   - VersionsNeverReused: a version is never given twice to an account,
//     even across a delete, so a server still holding an old record cannot
//     overwrite a new enrollment. Keep a per-account counter (or a
//     tombstone) when a record is deleted, or draw versions from one
//     sequence.
//   - CallerVersionIgnored: the Version field of the record passed to
//     CompareAndSwap is not stored; the Store chooses the version.
//   - Copies: the caller may change the record it passed to CompareAndSwap,
//     and a record it loaded, without changing what is stored.
//   - AccountsSeparate: a write to one account changes no other.
//   - RoundTrip: every field of the record comes back as written (times to
//     the millisecond at least), for an account name of any UTF-8.
//   - Concurrent: of 50 concurrent swaps from one version, exactly one
//     wins. A Store shared by servers must make the compare and the write
//     one atomic step (a transaction, a Lua script, a conditional write).
//   - Canceled: with a canceled context, Load and CompareAndSwap return an
//     error that matches [context.Canceled] and change nothing.
//
// The checks use accounts whose names begin with [Prefix], so run them on a
// store that holds none: a fresh database, table or key prefix. The suite
// cannot prove atomicity, only catch its absence when 50 callers race;
// a store that passes must still be reviewed for it. Durability (a record
// survives a restart or a failover) is the Store's own concern, beyond
// what one process can check.
package storetest
