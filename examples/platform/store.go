package platform

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", pure Go
)

// schema is the whole database. Every table holds ids, metadata, hashes
// and ciphertexts; none holds a token, a password or a request definition.
const schema = `
CREATE TABLE IF NOT EXISTS secrets (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL -- AES-256-GCM under a key derived from the master key
);
CREATE TABLE IF NOT EXISTS users (
	id             TEXT PRIMARY KEY,
	email          TEXT NOT NULL UNIQUE,
	password_hash  TEXT NOT NULL, -- argon2id, PHC string
	created        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS totp_records (
	account  TEXT PRIMARY KEY,
	version  INTEGER NOT NULL,
	record   BLOB -- NULL once deleted; the version stays so it is never reused
);
CREATE TABLE IF NOT EXISTS tokens (
	id         TEXT PRIMARY KEY, -- the jti
	subject    TEXT NOT NULL,
	name       TEXT NOT NULL,
	scopes     TEXT NOT NULL,
	apps       TEXT NOT NULL,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL, -- 0: never
	revoked    INTEGER NOT NULL DEFAULT 0,
	second_factor INTEGER NOT NULL DEFAULT 0 -- sessions: when the code step passed; 0 for every other token
);
CREATE TABLE IF NOT EXISTS password_failures (
	email        TEXT PRIMARY KEY, -- as signed in with; known or not
	failures     INTEGER NOT NULL, -- attempts since the last right password, counted before hashing
	last_failure INTEGER NOT NULL,
	locked_until INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS password_failures_last ON password_failures (last_failure);
CREATE TABLE IF NOT EXISTS subject_revocations (
	subject TEXT PRIMARY KEY,
	before  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clients (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	secret_hash  BLOB NOT NULL, -- SHA-256 of a 256-bit random secret
	scopes       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS integrations (
	id           TEXT PRIMARY KEY,
	owner        TEXT NOT NULL,
	client       TEXT NOT NULL,
	public_key   TEXT NOT NULL,
	wrapped_key  TEXT NOT NULL, -- the app's private key wrapped under its end-to-end key (latch_wk_...)
	created      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
	id           TEXT PRIMARY KEY,
	integration  TEXT NOT NULL,
	envelope     BLOB NOT NULL, -- sealedbox envelope; the definition is never stored
	created      INTEGER NOT NULL,
	signed       INTEGER NOT NULL DEFAULT 0 -- 1: sealed and signed by the integrator itself
);
CREATE TABLE IF NOT EXISTS devices (
	id       TEXT PRIMARY KEY,
	owner    TEXT NOT NULL,
	name     TEXT NOT NULL,
	key      TEXT NOT NULL UNIQUE, -- the application key (public)
	secret_id TEXT NOT NULL,       -- the jti of its secret, to revoke it
	state    TEXT NOT NULL DEFAULT '',
	created  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	device  TEXT NOT NULL,
	body    BLOB NOT NULL -- an end-to-end message the platform cannot read
);
`

// openDB opens (creating if needed) the database in dir.
func openDB(ctx context.Context, dir string) (*sql.DB, error) {
	path := filepath.Join(dir, "platform.db")
	// Made readable by its owner only; SQLite gives its journal files the
	// same mode.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	f.Close()
	dsn := "file:" + path +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("platform: open database: %w", err)
	}
	// One writer at a time is what SQLite does anyway; one connection
	// makes compare-and-swap transactions simple and race-free.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("platform: create schema: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("platform: update schema: %w", err)
	}
	return db, nil
}

// migrate brings a database made by an earlier version to the schema: the
// column tokens.second_factor (older sessions get 0, so changing the second
// factor with one asks for a code).
func migrate(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('tokens') WHERE name = 'second_factor'`).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err := db.ExecContext(ctx, `ALTER TABLE tokens ADD COLUMN second_factor INTEGER NOT NULL DEFAULT 0`)
	return err
}

// atRest encrypts the secrets the platform must keep (the token keyring)
// with AES-256-GCM under a key derived from the master key. The row's name
// is the additional data, so a ciphertext moved to another row fails.
type atRest struct{ aead cipher.AEAD }

func newAtRest(master []byte) (*atRest, error) {
	if len(master) != 32 {
		return nil, errors.New("platform: the master key must be 32 bytes")
	}
	k, err := hkdf.Key(sha256.New, master, nil, "latch-example platform/v1 secrets at rest", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &atRest{aead}, nil
}

func (a *atRest) seal(name string, plaintext []byte) []byte {
	return a.aead.Seal(nil, nil, plaintext, []byte(name))
}

func (a *atRest) open(name string, ciphertext []byte) ([]byte, error) {
	pt, err := a.aead.Open(nil, nil, ciphertext, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("platform: secret %q does not open under this master key", name)
	}
	return pt, nil
}

// loadSecret returns the named secret, making and storing it with create
// the first time.
func loadSecret(ctx context.Context, db *sql.DB, ar *atRest, name string, create func() ([]byte, error)) ([]byte, error) {
	var ct []byte
	err := db.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&ct)
	if err == nil {
		return ar.open(name, ct)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES (?, ?)`, name, ar.seal(name, v)); err != nil {
		return nil, err
	}
	return v, nil
}

// storeSecret replaces the stored secret name with v, sealed.
func storeSecret(ctx context.Context, db *sql.DB, ar *atRest, name string, v []byte) error {
	res, err := db.ExecContext(ctx, `UPDATE secrets SET value = ? WHERE name = ?`, ar.seal(name, v), name)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("platform: secret %q not stored (%d rows, %v)", name, n, err)
	}
	return nil
}

// NewMasterKey returns a new 256-bit master key from crypto/rand.
func NewMasterKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}
