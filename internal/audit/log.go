package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

// Appender is the part of the store the log writes to.
type Appender interface {
	AppendAudit(ctx context.Context, seal store.Seal) error
}

// Defaults for Config's zero values.
const (
	DefaultTimeout            = 2 * time.Second
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
	DefaultMaxDelay           = 2 * time.Millisecond
	defaultMaxBatch           = 1024
)

// Config configures a Log.
type Config struct {
	// Store receives the records. Required.
	Store Appender
	// Signer signs checkpoints. Required.
	Signer ed25519.PrivateKey
	// CheckpointEvery signs a checkpoint whenever the sequence crosses a
	// multiple of it (default 1000).
	CheckpointEvery int64
	// CheckpointInterval signs a checkpoint with the first append after
	// this much time has passed since the last one (default 1 minute).
	CheckpointInterval time.Duration
	// Timeout bounds how long an append may take before the operation
	// that needed it fails (default 2 s).
	Timeout time.Duration
	// MaxDelay bounds how long the writer holds a group commit open for
	// more concurrent appends (default DefaultMaxDelay; negative: never).
	// It holds one only under concurrent load, when the previous commit
	// carried more than one record, and for no longer than the shorter of
	// the last two transactions took (with a DeferredAppender, without
	// their flushes): a lone append is committed at once, a store that
	// commits quickly is barely waited for, and one slow transaction does
	// not lengthen the next hold. Each commit costs a transaction and a sync to
	// disk whatever its size, so fewer, larger commits cost less CPU per
	// record; no append returns before its record is durable.
	MaxDelay time.Duration
	// Sinks receive each durable record as one JSON line, for a SIEM.
	Sinks []io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Log appends events to the chain. It is safe for concurrent use; several
// Logs (in one process or several) may share one store.
type Log struct {
	cfg  Config
	reqs chan *request
	quit chan struct{}
	done chan struct{}
	once sync.Once
	// broken is set by a failed flush of a DeferredAppender; no record is
	// committed after it.
	broken atomic.Pointer[error]
}

type request struct {
	ev   Event
	body []byte
	rec  Record
	err  chan error
}

// New starts a log writer.
func New(cfg Config) (*Log, error) {
	if cfg.Store == nil {
		return nil, errors.New("audit log: no store")
	}
	if len(cfg.Signer) != ed25519.PrivateKeySize {
		return nil, errors.New("audit log: no checkpoint signing key")
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = DefaultCheckpointEvery
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	l := &Log{cfg: cfg, reqs: make(chan *request, defaultMaxBatch), quit: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l, nil
}

// Append makes ev durable in the chain and returns its record. It fails
// with ErrUnavailable when that does not happen within the timeout; the
// caller must then fail the operation the record was for.
func (l *Log) Append(ctx context.Context, ev Event) (Record, error) {
	if ev.Time.IsZero() {
		ev.Time = l.cfg.Now()
	}
	if err := ev.validate(); err != nil {
		return Record{}, err
	}
	body, err := encode(ev)
	if err != nil {
		return Record{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	req := &request{ev: ev, body: body, err: make(chan error, 1)}
	select {
	case l.reqs <- req:
	case <-l.quit:
		return Record{}, fmt.Errorf("%w: the log is closed", ErrUnavailable)
	case <-ctx.Done():
		return Record{}, fmt.Errorf("%w: record %s not written within %s", ErrUnavailable, ev.Action, l.cfg.Timeout)
	}
	select {
	case err := <-req.err:
		if err != nil {
			return Record{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return req.rec, nil
	case <-ctx.Done():
		return Record{}, fmt.Errorf("%w: record %s not written within %s", ErrUnavailable, ev.Action, l.cfg.Timeout)
	}
}

// Err is why the log takes no more records — a failed flush to disk — or
// nil while it takes them. A server reports itself not ready with it.
func (l *Log) Err() error {
	if err := l.broken.Load(); err != nil {
		return *err
	}
	return nil
}

// Close stops the writer after the queued records are written.
func (l *Log) Close() error {
	l.once.Do(func() { close(l.quit) })
	<-l.done
	return nil
}

// DeferredAppender is implemented by stores that can commit an append
// before it is durable and make it durable with a separate flush, which
// also covers every earlier append (store.OpenSQLite's store). With one,
// the log commits the next batch while the previous one is being synced
// to disk; no append returns before its record is durable either way.
type DeferredAppender interface {
	AppendAuditDeferred(ctx context.Context, seal store.Seal) (flush func() error, err error)
}

// committed is a batch committed by a DeferredAppender, waiting for its
// flush.
type committed struct {
	batch []*request
	flush func() error
}

// run is the single writer: it takes every queued request and commits
// them in one transaction (group commit). Under concurrent load it first
// gathers more requests for a while (see Config.MaxDelay).
//
// With a DeferredAppender the syncs to disk happen in flushLoop, which
// the writer hands each committed batch to: it commits batch n+1 while
// batch n is being flushed, and then waits for that flush to end before
// handing over n+1, so it is never more than one batch ahead, and the
// records arriving meanwhile make the next batch.
func (l *Log) run() {
	defer close(l.done)
	commit := l.commit
	if d, ok := l.cfg.Store.(DeferredAppender); ok {
		flushes := make(chan committed)
		stopped := make(chan struct{})
		go l.flushLoop(flushes, stopped)
		defer func() {
			close(flushes)
			<-stopped
		}()
		commit = func(batch []*request) time.Duration { return l.commitDeferred(d, batch, flushes) }
	}
	hold := time.NewTimer(time.Hour)
	hold.Stop()
	var lastSize int
	var lastTook, prevTook time.Duration
	for {
		var batch []*request
		select {
		case r := <-l.reqs:
			batch = append(make([]*request, 0, 16), r)
		case <-l.quit:
			for {
				select {
				case r := <-l.reqs:
					batch = append(batch, r)
				default:
					if len(batch) > 0 {
						commit(batch)
					}
					return
				}
			}
		}
		batch = l.gather(batch, hold, holdFor(lastSize, lastTook, prevTook, l.cfg.MaxDelay))
		prevTook = lastTook
		lastSize, lastTook = len(batch), commit(batch)
	}
}

// gather adds queued requests to batch, then keeps adding arriving ones
// for at most wait.
func (l *Log) gather(batch []*request, hold *time.Timer, wait time.Duration) []*request {
drain:
	for len(batch) < defaultMaxBatch {
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		default:
			break drain
		}
	}
	if wait <= 0 || len(batch) >= defaultMaxBatch {
		return batch
	}
	hold.Reset(wait)
	defer hold.Stop()
	for len(batch) < defaultMaxBatch {
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		case <-hold.C:
			return batch
		case <-l.quit:
			return batch
		}
	}
	return batch
}

// holdFor is how long to hold a group commit open for more appends, given
// the size of the previous commit and how long the last two transactions
// took: nothing after a commit of one record (no concurrent load), else as
// long as the shorter of the two took, at most maxDelay. The shorter, so
// that one slow transaction (SQLite checkpointing its log into the
// database, a few milliseconds every thousand pages) does not hold the
// records that queued behind it for as long again.
func holdFor(lastSize int, lastTook, prevTook, maxDelay time.Duration) time.Duration {
	if lastSize < 2 || maxDelay <= 0 {
		return 0
	}
	return min(lastTook, prevTook, maxDelay)
}

// commit appends batch in one durable transaction, answers its requests
// and returns how long the transaction took.
func (l *Log) commit(batch []*request) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Timeout)
	defer cancel()
	begin := time.Now()
	err := l.cfg.Store.AppendAudit(ctx, l.seal(batch))
	took := time.Since(begin)
	l.finish(batch, err)
	return took
}

// commitDeferred appends batch in one transaction and hands it to the
// flush loop once that is free; a failed transaction is answered at once.
// It returns how long the transaction took. After a failed flush nothing
// more is committed: what was committed since the last good flush may not
// be on disk, so records chained after it could not be trusted.
func (l *Log) commitDeferred(d DeferredAppender, batch []*request, flushes chan<- committed) time.Duration {
	if err := l.broken.Load(); err != nil {
		l.finish(batch, *err)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Timeout)
	defer cancel()
	begin := time.Now()
	flush, err := d.AppendAuditDeferred(ctx, l.seal(batch))
	took := time.Since(begin)
	if err != nil {
		l.finish(batch, err)
		return took
	}
	flushes <- committed{batch: batch, flush: flush}
	return took
}

// flushLoop makes each committed batch durable and answers its requests,
// in commit order. After a failed flush it answers every later batch with
// that failure. It closes stopped when flushes is closed and drained.
func (l *Log) flushLoop(flushes <-chan committed, stopped chan<- struct{}) {
	defer close(stopped)
	for c := range flushes {
		var err error
		if broken := l.broken.Load(); broken != nil {
			err = *broken
		} else if err = c.flush(); err != nil {
			err = fmt.Errorf("%w (the log takes no more records until it is reopened)", err)
			l.broken.Store(&err)
		}
		l.finish(c.batch, err)
	}
}

// seal is the store.Seal that chains batch after the locked head and
// signs a checkpoint when one is due.
func (l *Log) seal(batch []*request) store.Seal {
	return func(head store.AuditHead) ([]store.AuditRecord, *store.Checkpoint, error) {
		recs := make([]store.AuditRecord, len(batch))
		prev := head.Hash
		for i, r := range batch {
			seq := head.Seq + int64(i) + 1
			hash := Link(prev, seq, r.body)
			recs[i] = store.AuditRecord{Seq: seq, At: r.ev.Time, Action: r.ev.Action, Resource: r.ev.Resource, Body: r.body, Hash: hash}
			r.rec = Record{Seq: seq, Hash: hash, Event: r.ev}
			prev = hash
		}
		last := recs[len(recs)-1]
		now := l.cfg.Now()
		every := l.cfg.CheckpointEvery
		if last.Seq/every > head.Checkpoint.Seq/every || now.Sub(head.Checkpoint.At) >= l.cfg.CheckpointInterval {
			return recs, signCheckpoint(l.cfg.Signer, last.Seq, last.Hash, now), nil
		}
		return recs, nil, nil
	}
}

// finish answers batch's requests with err, after writing the records to
// the sinks when they are durable.
func (l *Log) finish(batch []*request, err error) {
	if err == nil {
		err = l.sink(batch)
	}
	for _, r := range batch {
		r.err <- err
	}
}

// sink writes the durable records to the extra sinks.
func (l *Log) sink(batch []*request) error {
	if len(l.cfg.Sinks) == 0 {
		return nil
	}
	var buf []byte
	for _, r := range batch {
		buf = appendRecordLine(buf, r.rec.Seq, r.rec.Hash, r.body)
	}
	for _, w := range l.cfg.Sinks {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write audit sink: %w", err)
		}
	}
	return nil
}
