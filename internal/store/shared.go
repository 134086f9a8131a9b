package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

func (s *sqlStore) LockExchange(ctx context.Context, identity string, fn func(ctx context.Context) error) error {
	if s.d.exchangeLock == "" {
		return fn(ctx)
	}
	// The lock lives as long as the transaction, so it is released when
	// fn returns, and by the server if this process dies holding it.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("lock the exchange of %s: begin: %w", identity, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.d.exchangeLock, identity); err != nil {
		return fmt.Errorf("lock the exchange of %s: %w", identity, err)
	}
	if err := fn(ctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("unlock the exchange of %s: %w", identity, err)
	}
	return nil
}

func (s *sqlStore) SharedToken(ctx context.Context, identity string) (SharedToken, error) {
	t := SharedToken{Identity: identity}
	var issued, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT issued_at, expires_at, nonce, ciphertext FROM shared_tokens WHERE identity = $1`, identity).
		Scan(&issued, &expires, &t.Nonce, &t.Ciphertext)
	if errors.Is(err, sql.ErrNoRows) {
		return SharedToken{}, fmt.Errorf("shared token of %s: %w", identity, ErrNotFound)
	}
	if err != nil {
		return SharedToken{}, fmt.Errorf("read the shared token of %s: %w", identity, err)
	}
	t.IssuedAt, t.ExpiresAt = fromNanos(issued), fromNanos(expires)
	return t, nil
}

func (s *sqlStore) PutSharedToken(ctx context.Context, t SharedToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO shared_tokens (identity, issued_at, expires_at, nonce, ciphertext) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (identity) DO UPDATE SET issued_at = excluded.issued_at, expires_at = excluded.expires_at, nonce = excluded.nonce, ciphertext = excluded.ciphertext`,
		t.Identity, nanos(t.IssuedAt), nanos(t.ExpiresAt), t.Nonce, t.Ciphertext)
	if err != nil {
		return fmt.Errorf("store the shared token of %s: %w", t.Identity, err)
	}
	return nil
}

func (s *sqlStore) DeleteSharedToken(ctx context.Context, identity string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM shared_tokens WHERE identity = $1`, identity); err != nil {
		return fmt.Errorf("delete the shared token of %s: %w", identity, err)
	}
	return nil
}
