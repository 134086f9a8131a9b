package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ListenerApplication is the listening connection's application_name.
const ListenerApplication = listenerApplication

// LastAuditQuery is LastAudit's query.
const LastAuditQuery = lastAuditQuery

// CacheState reports whether s serves versions from its cache now, and for
// how many identities it holds rows.
func CacheState(s Store) (trusted bool, identities int) {
	c := s.(*sqlStore).cache
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.trusted(), len(c.rows)
}

// Cached reports whether s's cache holds a row for identity and version.
func Cached(s Store, identity string, version int) bool {
	c := s.(*sqlStore).cache
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.rows[identity][version]
	return ok
}

// HoldListener replaces s's listener with one that does not connect until
// release is closed, as if the database were unreachable until then.
func HoldListener(s Store, dsn string, release <-chan struct{}) error {
	ss := s.(*sqlStore)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	lcfg := listenerConfig(&cfg.Config, ss.cache)
	ss.listen.stop()
	ss.listen = startListenerWith(ss.cache, func(ctx context.Context) (*pgconn.PgConn, error) {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return pgconn.ConnectConfig(ctx, lcfg)
	})
	return nil
}
