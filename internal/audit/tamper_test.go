package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"strings"
	"testing"

	"github.com/steward-dev/steward/internal/audit"
	"github.com/steward-dev/steward/internal/store"
	"github.com/steward-dev/steward/internal/store/storetest"
)

// tamperCases edit the database the way an attacker with SQL access would.
var tamperCases = []struct {
	name     string
	tamper   func(t *testing.T, db *sql.DB)
	trusted  bool // verify against the exported checkpoints
	firstBad int64
	problem  string
}{
	{"edit a record", func(t *testing.T, db *sql.DB) {
		var body []byte
		if err := db.QueryRow(`SELECT body FROM audit_records WHERE seq = 17`).Scan(&body); err != nil {
			t.Fatal(err)
		}
		exec(t, db, `UPDATE audit_records SET body = $1 WHERE seq = 17`, bytes.Replace(body, []byte("secret.read"), []byte("secret.list"), 1))
	}, false, 17, "does not match its hash"},
	{"delete a record", func(t *testing.T, db *sql.DB) {
		exec(t, db, `DELETE FROM audit_records WHERE seq = 23`)
	}, false, 23, "record 23 is missing"},
	{"reorder two records", func(t *testing.T, db *sql.DB) {
		exec(t, db, `UPDATE audit_records SET seq = -1 WHERE seq = 30`)
		exec(t, db, `UPDATE audit_records SET seq = 30 WHERE seq = 31`)
		exec(t, db, `UPDATE audit_records SET seq = 31 WHERE seq = -1`)
	}, false, 30, "does not match its hash"},
	{"forge a checkpoint", func(t *testing.T, db *sql.DB) {
		exec(t, db, `UPDATE audit_checkpoints SET at = at + 1 WHERE seq = 20`)
	}, false, 20, "invalid signature"},
	{"rewrite the chain after record 11", func(t *testing.T, db *sql.DB) {
		rewriteFrom(t, db, 12)
	}, false, 11, "checkpoint 20 does not match"},
	{"truncate the tail, checked against exported checkpoints", func(t *testing.T, db *sql.DB) {
		truncateAfter(t, db, 40)
	}, true, 41, "the tail was truncated"},
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rewriteFrom changes record seq and recomputes every later hash, as an
// attacker without the signing key would.
func rewriteFrom(t *testing.T, db *sql.DB, seq int64) {
	var prev []byte
	if err := db.QueryRow(`SELECT hash FROM audit_records WHERE seq = $1`, seq-1).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT seq, body FROM audit_records WHERE seq >= $1 ORDER BY seq`, seq)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		seq  int64
		body []byte
	}
	var recs []rec
	for rows.Next() {
		var r rec
		rows.Scan(&r.seq, &r.body)
		recs = append(recs, r)
	}
	rows.Close()
	for i, r := range recs {
		if i == 0 {
			r.body = bytes.Replace(r.body, []byte("secret.read"), []byte("secret.list"), 1)
		}
		h := audit.Link(prev, r.seq, r.body)
		exec(t, db, `UPDATE audit_records SET body = $1, hash = $2 WHERE seq = $3`, r.body, h, r.seq)
		prev = h
	}
	exec(t, db, `UPDATE audit_head SET hash = $1 WHERE id = 1`, prev)
}

// truncateAfter removes the tail and its checkpoints and moves the head back.
func truncateAfter(t *testing.T, db *sql.DB, seq int64) {
	exec(t, db, `DELETE FROM audit_records WHERE seq > $1`, seq)
	exec(t, db, `DELETE FROM audit_checkpoints WHERE seq > $1`, seq)
	exec(t, db, `UPDATE audit_head SET seq = $1, hash = (SELECT hash FROM audit_records WHERE seq = $1) WHERE id = 1`, seq)
}

func TestTamperingInTheStore(t *testing.T) {
	for _, tc := range tamperCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, b := range backends(t) {
				t.Run(b.name, func(t *testing.T) {
					s := b.open()
					key := newKey(t)
					pub := key.Public().(ed25519.PublicKey)
					l := newLog(t, s, key, 10)
					appendN(t, l, 50)
					l.Close()
					var cpFile bytes.Buffer
					if err := audit.Export(context.Background(), s, pub, &cpFile, true); err != nil {
						t.Fatal(err)
					}
					if rep, _ := audit.Verify(context.Background(), s, pub, nil); !rep.OK() {
						t.Fatalf("untouched log does not verify: %+v", rep)
					}
					tc.tamper(t, b.raw(t))
					var trusted []store.Checkpoint
					if tc.trusted {
						exp, err := audit.ParseExport(&cpFile, "checkpoints.jsonl")
						if err != nil {
							t.Fatal(err)
						}
						trusted = exp.Cps
						// Without them the truncated log looks whole.
						if rep, _ := audit.Verify(context.Background(), s, pub, nil); !rep.OK() {
							t.Fatalf("truncated log without exported checkpoints: %+v", rep)
						}
					}
					rep, err := audit.Verify(context.Background(), s, pub, trusted)
					if err != nil {
						t.Fatal(err)
					}
					if rep.FirstBad != tc.firstBad || !strings.Contains(rep.Problem, tc.problem) {
						t.Fatalf("Verify = first bad %d (%s); want %d (%s)", rep.FirstBad, rep.Problem, tc.firstBad, tc.problem)
					}
				})
			}
		})
	}
}

// TestTamperingInAnExport edits an exported file line by line.
func TestTamperingInAnExport(t *testing.T) {
	open, _ := storetest.SQLite(t)
	s := open()
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	l := newLog(t, s, key, 10)
	appendN(t, l, 30)
	l.Close()
	var full, cps bytes.Buffer
	if err := audit.Export(context.Background(), s, pub, &full, false); err != nil {
		t.Fatal(err)
	}
	if err := audit.Export(context.Background(), s, pub, &cps, true); err != nil {
		t.Fatal(err)
	}
	trustedExp, err := audit.ParseExport(bytes.NewReader(cps.Bytes()), "checkpoints.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(full.String(), "\n")
	// lines[0] is the header; lines[i] is record i for 1 ≤ i ≤ 30.
	edit := func(f func(ls []string) []string) string {
		return strings.Join(f(append([]string(nil), lines...)), "")
	}
	for _, tc := range []struct {
		name     string
		file     string
		firstBad int64
	}{
		{"untouched", full.String(), 0},
		{"edit", edit(func(ls []string) []string {
			ls[12] = strings.Replace(ls[12], "secret.read", "secret.list", 1)
			return ls
		}), 12},
		{"delete", edit(func(ls []string) []string { return append(ls[:7:7], ls[8:]...) }), 7},
		{"reorder", edit(func(ls []string) []string { ls[4], ls[5] = ls[5], ls[4]; return ls }), 4},
		{"truncate", edit(func(ls []string) []string { return ls[:26] }), 26},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := audit.ParseExport(strings.NewReader(tc.file), "export.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(context.Background(), exp, pub, trustedExp.Cps)
			if err != nil {
				t.Fatal(err)
			}
			if rep.FirstBad != tc.firstBad {
				t.Fatalf("Verify = first bad %d (%s); want %d", rep.FirstBad, rep.Problem, tc.firstBad)
			}
		})
	}
}
