package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// versionChannel is the channel migration 0006's trigger notifies with the
// identity whose versions changed.
const versionChannel = "steward_secret_versions"

// listenerApplication is the listening connection's application_name, so
// that it can be told apart in pg_stat_activity.
const listenerApplication = "steward-version-listener"

// Listener timing. While connected, the listener sends a heartbeat query
// every listenHeartbeat; the cache is trusted for listenStaleAfter after
// the last heartbeat that was answered was sent, which bounds staleness
// when a connection dies or stalls without the process noticing.
// Reconnection backs off up to listenMaxBackoff.
const (
	listenHeartbeat  = time.Second
	listenStaleAfter = 3 * time.Second
	listenMaxBackoff = 2 * time.Second
)

// listener keeps one connection listening on versionChannel and drops the
// cached rows of every identity it hears of. While it has no working
// connection the cache is emptied and not trusted; on reconnecting it
// listens first and trusts the cache only afterwards, starting empty.
type listener struct {
	cache  *versionCache
	dial   func(ctx context.Context) (*pgconn.PgConn, error)
	cancel context.CancelFunc
	done   chan struct{}
}

// startListener starts listening on connections made with cfg.
func startListener(cfg *pgconn.Config, cache *versionCache) *listener {
	lcfg := listenerConfig(cfg, cache)
	return startListenerWith(cache, func(ctx context.Context) (*pgconn.PgConn, error) {
		return pgconn.ConnectConfig(ctx, lcfg)
	})
}

// listenerConfig is a copy of cfg for the listening connection, whose
// notifications drop the cache's rows of the identity they name.
func listenerConfig(cfg *pgconn.Config, cache *versionCache) *pgconn.Config {
	cfg = cfg.Copy()
	cfg.RuntimeParams["application_name"] = listenerApplication
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		cache.invalidate(n.Payload)
	}
	return cfg
}

// startListenerWith starts listening on connections from dial, which must
// route notifications to the cache.
func startListenerWith(cache *versionCache, dial func(ctx context.Context) (*pgconn.PgConn, error)) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cache: cache, dial: dial, cancel: cancel, done: make(chan struct{})}
	go l.run(ctx)
	return l
}

// stop ends listening and waits for the listener to finish.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}

func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	backoff := listenMaxBackoff / 16
	for {
		if l.session(ctx) {
			backoff = listenMaxBackoff / 16
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// session connects, listens and handles notifications until the
// connection fails or ctx ends. It reports whether it got as far as
// listening. Why a connection failed does not matter here: either way the
// cache is emptied and the listener connects again.
func (l *listener) session(ctx context.Context) bool {
	dctx, cancel := context.WithTimeout(ctx, listenStaleAfter)
	conn, err := l.dial(dctx)
	cancel()
	if err != nil {
		return false
	}
	defer func() {
		// Stop trusting the cache before anything else; a clean close
		// sends a goodbye, which a stalled network must not hold up long.
		l.cache.suspend()
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(cctx)
		cancel()
	}()
	lctx, cancel := context.WithTimeout(ctx, listenStaleAfter)
	_, err = conn.Exec(lctx, "LISTEN "+versionChannel).ReadAll()
	cancel()
	if err != nil {
		return false
	}
	l.cache.resume()
	// PostgreSQL sends the notifications pending for a connection before
	// it answers a query, so a heartbeat that succeeds proves every change
	// committed before it was sent has been heard of: the cache is exact
	// as of the moment the heartbeat was sent.
	next := time.Now().Add(listenHeartbeat)
	for {
		wctx, cancel := context.WithDeadline(ctx, next)
		err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return true
		case err == nil:
			// The notification handler has dropped the rows.
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			sent := l.cache.clock()
			pctx, cancel := context.WithTimeout(ctx, listenStaleAfter)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true
			}
			l.cache.proved(sent)
			next = time.Now().Add(listenHeartbeat)
		default:
			return true
		}
	}
}
