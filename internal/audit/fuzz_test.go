package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"strings"
	"sync"
	"testing"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
)

// FuzzParseExport feeds arbitrary files to the export parser and the
// verifier: errors are fine, panics are not, and a file that parses must
// verify or name a bad sequence number.
func FuzzParseExport(f *testing.F) {
	s := &memStore{}
	key := newKey(f)
	l := newLog(f, s, key, 3)
	appendN(f, l, 5)
	l.Close()
	var buf bytes.Buffer
	if err := audit.Export(context.Background(), s, key.Public().(ed25519.PublicKey), &buf, false); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	lines := strings.SplitAfter(buf.String(), "\n")
	f.Add([]byte(lines[0] + lines[2] + lines[1]))
	f.Add([]byte(lines[0] + `{"type":"record","seq":1,"hash":"zz","event":{}}` + "\n"))
	f.Add([]byte(`{"type":"checkpoint"}`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exp, err := audit.ParseExport(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl") && !strings.HasPrefix(err.Error(), "read fuzz.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		rep, err := audit.Verify(context.Background(), exp, exp.PublicKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() && rep.Problem == "" {
			t.Fatalf("bad log without a problem: %+v", rep)
		}
	})
}

// memStore is an in-memory chain store: a fake for tests that need no
// database.
type memStore struct {
	mu   sync.Mutex
	head store.AuditHead
	recs []store.AuditRecord
	cps  []store.Checkpoint
}

func (m *memStore) AppendAudit(_ context.Context, seal store.Seal) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.head.Hash == nil {
		m.head.Hash = audit.Genesis
	}
	recs, cp, err := seal(m.head)
	if err != nil || len(recs) == 0 {
		return err
	}
	m.recs = append(m.recs, recs...)
	last := recs[len(recs)-1]
	m.head.Seq, m.head.Hash = last.Seq, last.Hash
	if cp != nil {
		m.cps = append(m.cps, *cp)
		m.head.Checkpoint = *cp
	}
	return nil
}

func (m *memStore) AuditRecords(_ context.Context, from int64, fn func(store.AuditRecord) error) error {
	m.mu.Lock()
	recs := m.recs
	m.mu.Unlock()
	for _, r := range recs {
		if r.Seq >= from {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memStore) Checkpoints(context.Context) ([]store.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cps, nil
}
