package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/elevation"
	"github.com/steward-dev/steward/internal/review"
	"github.com/steward-dev/steward/internal/secrets"
	"github.com/steward-dev/steward/internal/snapshot"
	"github.com/steward-dev/steward/internal/store"
)

// Environment variables for the secret store and audit log.
const (
	envDataDir     = "STEWARD_DATA_DIR"
	envPostgresDSN = "STEWARD_POSTGRES_DSN"
	envKEKFile     = "STEWARD_KEK_FILE"
	envActor       = "STEWARD_ACTOR"
)

// storeFlags are the flags every command on the store shares.
type storeFlags struct {
	dataDir      string
	kekFile      string
	actor        string
	auditJSONL   string
	auditTimeout time.Duration
	cpEvery      int64
	cpInterval   time.Duration
}

func (f *storeFlags) register(cmd *cobra.Command) {
	p := cmd.PersistentFlags()
	p.StringVar(&f.dataDir, "data-dir", "", "directory of the embedded SQLite database (default $"+envDataDir+" or ~/.local/share/steward); ignored when $"+envPostgresDSN+" is set")
	p.StringVar(&f.kekFile, "kek-file", "", "file holding the key-encryption keys, id:base64 per line, current first (default $"+envKEKFile+", else the keys in $"+secrets.KEKEnv+")")
	p.StringVar(&f.actor, "actor", "", "who acts, as kind:id (human:ana@acme.com, workload:billing) for the audit log (default $"+envActor+", else human:$USER)")
	p.StringVar(&f.auditJSONL, "audit-jsonl", "", "also write each audit record as a JSON line to this file (appended), or - for stdout, for a SIEM")
	p.DurationVar(&f.auditTimeout, "audit-timeout", audit.DefaultTimeout, "fail an operation whose audit record is not durable within this time")
	p.Int64Var(&f.cpEvery, "checkpoint-every", audit.DefaultCheckpointEvery, "sign an audit checkpoint every this many records")
	p.DurationVar(&f.cpInterval, "checkpoint-interval", audit.DefaultCheckpointInterval, "sign an audit checkpoint with the first record after this much time")
}

// registerPosture adds the flags that point check and scan at a store,
// whose secrets and audit log then join the snapshot. The store is
// optional there: see addSecretStore.
func (f *storeFlags) registerPosture(fs *pflag.FlagSet, checkpoints *string) {
	fs.StringVar(&f.dataDir, "data-dir", "", "also check the secrets and audit log of the Steward store in this directory (default $"+envDataDir+"; PostgreSQL when $"+envPostgresDSN+" is set)")
	fs.StringVar(checkpoints, "audit-checkpoints", "", "a 'steward audit export' file kept elsewhere whose checkpoints the audit log must match (needs a store)")
}

// addSecretStore joins the store's secrets and audit log to the snapshot
// when a store is named by --data-dir, $STEWARD_DATA_DIR or
// $STEWARD_POSTGRES_DSN; without one the snapshot is left as it is. The
// store is only read: no key-encryption key is needed and nothing is
// recorded.
func (f *storeFlags) addSecretStore(ctx context.Context, env Env, checkpoints string, snap *snapshot.Snapshot) error {
	if f.dataDir == "" && env.Getenv(envDataDir) == "" && env.Getenv(envPostgresDSN) == "" {
		if checkpoints != "" {
			return usageError(errors.New("--audit-checkpoints needs a store"), "pass --data-dir DIR or set $"+envDataDir+" or $"+envPostgresDSN)
		}
		return nil
	}
	if env.Getenv(envPostgresDSN) == "" {
		dir := f.dataDir
		if dir == "" {
			dir = env.Getenv(envDataDir)
		}
		if _, err := os.Stat(filepath.Join(dir, store.SQLiteFile)); err != nil {
			return usageError(fmt.Errorf("no Steward store in %s: %w", dir, err), "point --data-dir (or $"+envDataDir+") at the directory 'steward secret' uses, or unset both to check without the store")
		}
	}
	var trusted []store.Checkpoint
	if checkpoints != "" {
		exp, err := readExport(checkpoints)
		if err != nil {
			return err
		}
		trusted = exp.Cps
	}
	db, err := f.openStore(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := secrets.Posture(ctx, db, trusted)
	if err != nil {
		return fmt.Errorf("read the secret store: %w", err)
	}
	snap.AddSecretStore(st)
	if err := review.AddToSnapshot(ctx, db, snap); err != nil {
		return err
	}
	if err := addStoreRoster(ctx, db, snap); err != nil {
		return err
	}
	if err := elevation.AddToSnapshot(ctx, db, snap); err != nil {
		return err
	}
	return nil
}

// openStore opens the database: PostgreSQL when the DSN variable is set,
// else SQLite in the data directory.
func (f *storeFlags) openStore(ctx context.Context, env Env) (store.Store, error) {
	if dsn := env.Getenv(envPostgresDSN); dsn != "" {
		db, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, storeError(err, "check $"+envPostgresDSN+" and that the server is reachable")
		}
		return db, nil
	}
	dir := f.dataDir
	if dir == "" {
		dir = env.Getenv(envDataDir)
	}
	if dir == "" {
		home := env.Getenv("HOME")
		if home == "" {
			return nil, usageError(errors.New("no data directory"), "pass --data-dir DIR or set $"+envDataDir)
		}
		dir = filepath.Join(home, ".local", "share", "steward")
	}
	db, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		return nil, storeError(err, "check --data-dir")
	}
	return db, nil
}

func storeError(err error, hint string) error {
	if errors.Is(err, store.ErrSchemaTooNew) {
		return usageError(err, "run a newer steward against this database")
	}
	return usageError(err, hint)
}

// keys loads the key provider: --kek-file, $STEWARD_KEK_FILE, or $STEWARD_KEK.
func (f *storeFlags) keys(env Env) (secrets.KeyProvider, error) {
	path := f.kekFile
	if path == "" {
		path = env.Getenv(envKEKFile)
	}
	var kr *secrets.Keyring
	var err error
	if path != "" {
		kr, err = secrets.FileKeyProvider(path)
	} else {
		kr, err = secrets.EnvKeyProvider(env.Getenv, secrets.KEKEnv)
	}
	if err != nil {
		return nil, usageError(err, "see docs/secrets.md#key-providers")
	}
	return kr, nil
}

// who parses the acting identity.
func (f *storeFlags) who(env Env) (audit.Actor, error) {
	a := f.actor
	if a == "" {
		a = env.Getenv(envActor)
	}
	if a == "" {
		user := env.Getenv("USER")
		if user == "" {
			user = "unknown"
		}
		return audit.Actor{Kind: audit.ActorHuman, ID: user}, nil
	}
	kind, id, ok := strings.Cut(a, ":")
	if !ok || id == "" || (kind != audit.ActorHuman && kind != audit.ActorWorkload) {
		return audit.Actor{}, usageError(fmt.Errorf("actor %q is not kind:id", a), "use --actor human:ana@acme.com or --actor workload:billing-sync")
	}
	return audit.Actor{Kind: kind, ID: id}, nil
}

// backend is an open secret store with its audit log.
type backend struct {
	db      store.Store
	log     *audit.Log
	secrets *secrets.Store
	keys    secrets.KeyProvider
	actor   audit.Actor
	sink    io.Closer
}

func (b *backend) Close() {
	b.log.Close()
	if b.sink != nil {
		b.sink.Close()
	}
	b.db.Close()
}

// openBackend opens everything a secret command needs.
func (f *storeFlags) openBackend(ctx context.Context, env Env) (*backend, error) {
	actor, err := f.who(env)
	if err != nil {
		return nil, err
	}
	keys, err := f.keys(env)
	if err != nil {
		return nil, err
	}
	db, err := f.openStore(ctx, env)
	if err != nil {
		return nil, err
	}
	b := &backend{db: db, keys: keys, actor: actor}
	fail := func(err error) (*backend, error) {
		if b.sink != nil {
			b.sink.Close()
		}
		db.Close()
		return nil, err
	}
	signer, err := secrets.SigningKey(ctx, db, keys)
	if err != nil {
		return fail(keyError(err))
	}
	cfg := audit.Config{Store: db, Signer: signer, Timeout: f.auditTimeout, CheckpointEvery: f.cpEvery, CheckpointInterval: f.cpInterval, Now: env.Now}
	switch f.auditJSONL {
	case "":
	case "-":
		cfg.Sinks = []io.Writer{env.Stdout}
	default:
		file, err := os.OpenFile(f.auditJSONL, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fail(usageError(fmt.Errorf("open audit sink: %w", err), "check --audit-jsonl"))
		}
		b.sink = file
		cfg.Sinks = []io.Writer{file}
	}
	b.log, err = audit.New(cfg)
	if err != nil {
		return fail(err)
	}
	b.secrets, err = secrets.New(ctx, secrets.Config{DB: db, Keys: keys, Audit: b.log, Now: env.Now})
	if err != nil {
		b.log.Close()
		return fail(keyError(err))
	}
	return b, nil
}

func keyError(err error) error {
	switch {
	case errors.Is(err, secrets.ErrDecrypt):
		return usageError(fmt.Errorf("%w (the key-encryption key does not open this store's keys)", err), "use the KEK this store was created with; see docs/secrets.md#key-providers")
	case errors.Is(err, secrets.ErrUnknownKEK):
		return usageError(err, "add the old key after the current one in the keyring")
	}
	return err
}
