package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/steward-dev/steward/internal/store"
)

// Source is what Verify, Export and Tail read: the store, or a parsed export.
type Source interface {
	AuditRecords(ctx context.Context, from int64, fn func(store.AuditRecord) error) error
	Checkpoints(ctx context.Context) ([]store.Checkpoint, error)
}

// exportFormat names the export's header line.
const exportFormat = "steward-audit-export"

// sha256Size is the length of a record hash.
const sha256Size = 32

// maxLine bounds one line of an export file.
const maxLine = 16 << 20

// appendRecordLine renders one record as the JSON line used by exports and
// sinks. body is embedded byte for byte, so the line can be re-verified.
func appendRecordLine(buf []byte, seq int64, hash, body []byte) []byte {
	buf = append(buf, `{"type":"record","seq":`...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, `,"hash":"`...)
	buf = hex.AppendEncode(buf, hash)
	buf = append(buf, `","event":`...)
	buf = append(buf, body...)
	return append(buf, "}\n"...)
}

type headerLine struct {
	Type      string `json:"type"`
	Format    string `json:"format"`
	Version   int    `json:"version"`
	PublicKey string `json:"publicKey"`
	KeyID     string `json:"keyId"`
}

type checkpointLine struct {
	Type      string    `json:"type"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"keyId"`
	Signature string    `json:"signature"`
}

// Export writes the log as JSON lines: a header with the checkpoint public
// key, every record (unless checkpointsOnly) and every checkpoint. Keep a
// checkpoints-only export somewhere the database's administrators cannot
// write; `steward audit verify --checkpoints` then detects a truncated tail.
func Export(ctx context.Context, src Source, pub ed25519.PublicKey, w io.Writer, checkpointsOnly bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	hdr, _ := json.Marshal(headerLine{Type: "header", Format: exportFormat, Version: 1, PublicKey: base64.StdEncoding.EncodeToString(pub), KeyID: KeyID(pub)})
	bw.Write(append(hdr, '\n'))
	if !checkpointsOnly {
		var buf []byte
		err := src.AuditRecords(ctx, 1, func(r store.AuditRecord) error {
			buf = appendRecordLine(buf[:0], r.Seq, r.Hash, r.Body)
			_, err := bw.Write(buf)
			return err
		})
		if err != nil {
			return fmt.Errorf("export audit records: %w", err)
		}
	}
	cps, err := src.Checkpoints(ctx)
	if err != nil {
		return fmt.Errorf("export audit checkpoints: %w", err)
	}
	for _, c := range cps {
		b, _ := json.Marshal(checkpointLine{Type: "checkpoint", Seq: c.Seq, Hash: hex.EncodeToString(c.Hash), At: c.At.UTC(), KeyID: c.KeyID, Signature: base64.StdEncoding.EncodeToString(c.Signature)})
		bw.Write(append(b, '\n'))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write audit export: %w", err)
	}
	return nil
}

// Exported is a parsed export file. It is a Source, so Verify checks it
// the same way it checks the store.
type Exported struct {
	PublicKey ed25519.PublicKey
	Records   []store.AuditRecord
	Cps       []store.Checkpoint
}

var _ Source = (*Exported)(nil)

// AuditRecords calls fn for the exported records from seq on, in file order.
func (e *Exported) AuditRecords(_ context.Context, from int64, fn func(store.AuditRecord) error) error {
	for _, r := range e.Records {
		if r.Seq >= from {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// Checkpoints returns the exported checkpoints.
func (e *Exported) Checkpoints(context.Context) ([]store.Checkpoint, error) { return e.Cps, nil }

// ParseExport reads an export file; name is used in error messages, which
// give the line number of the first malformed line.
func ParseExport(r io.Reader, name string) (*Exported, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	var out Exported
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		if err := out.parseLine(b, line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, line+1, maxLine)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if out.PublicKey == nil {
		return nil, fmt.Errorf("%s: not a Steward audit export (no header line)", name)
	}
	return &out, nil
}

// exportLine is any line of an export, decoded in one pass.
type exportLine struct {
	Type string `json:"type"`
	// header
	Format    string `json:"format"`
	Version   int    `json:"version"`
	PublicKey string `json:"publicKey"`
	// record and checkpoint
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	// record
	Event json.RawMessage `json:"event"`
	// checkpoint
	At        time.Time `json:"at"`
	KeyID     string    `json:"keyId"`
	Signature string    `json:"signature"`
}

// recordPrefix starts every record line Export writes.
var recordPrefix = []byte(`{"type":"record","seq":`)

// parseRecordLine reads a record line in exactly the shape Export writes
// without a general JSON decoder; ok is false for any other shape, which
// then goes through the decoder.
func parseRecordLine(b []byte) (r store.AuditRecord, ok bool) {
	rest, found := bytes.CutPrefix(b, recordPrefix)
	if !found {
		return r, false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	seq, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	if err != nil {
		return r, false
	}
	rest, found = bytes.CutPrefix(rest[i:], []byte(`,"hash":"`))
	if !found || len(rest) < 2*sha256Size+len(`","event":}`) {
		return r, false
	}
	hash := make([]byte, sha256Size)
	if _, err := hex.Decode(hash, rest[:2*sha256Size]); err != nil {
		return r, false
	}
	rest, found = bytes.CutPrefix(rest[2*sha256Size:], []byte(`","event":`))
	if !found || rest[len(rest)-1] != '}' {
		return r, false
	}
	body := rest[:len(rest)-1]
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return r, false
	}
	return store.AuditRecord{Seq: seq, Body: bytes.Clone(body), Hash: hash}, true
}

func (e *Exported) parseLine(b []byte, line int) error {
	if line > 1 {
		if r, ok := parseRecordLine(b); ok {
			e.Records = append(e.Records, r)
			return nil
		}
	}
	var l exportLine
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if line == 1 && l.Type != "header" {
		return errors.New("not a Steward audit export: the first line must be the header")
	}
	switch l.Type {
	case "header":
		if line != 1 {
			return errors.New("header line after the first line")
		}
		if l.Format != exportFormat || l.Version != 1 {
			return fmt.Errorf("unsupported export format %q version %d", l.Format, l.Version)
		}
		pub, err := base64.StdEncoding.DecodeString(l.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return errors.New("header: publicKey is not a base64 Ed25519 public key")
		}
		e.PublicKey = pub
	case "record":
		hash, err := hex.DecodeString(l.Hash)
		if err != nil {
			return fmt.Errorf("record %d: hash is not hex", l.Seq)
		}
		if len(l.Event) == 0 || l.Event[0] != '{' {
			return fmt.Errorf("record %d: event is not a JSON object", l.Seq)
		}
		e.Records = append(e.Records, store.AuditRecord{Seq: l.Seq, Body: l.Event, Hash: hash})
	case "checkpoint":
		hash, err := hex.DecodeString(l.Hash)
		if err != nil {
			return fmt.Errorf("checkpoint %d: hash is not hex", l.Seq)
		}
		sig, err := base64.StdEncoding.DecodeString(l.Signature)
		if err != nil {
			return fmt.Errorf("checkpoint %d: signature is not base64", l.Seq)
		}
		e.Cps = append(e.Cps, store.Checkpoint{Seq: l.Seq, Hash: hash, At: l.At, KeyID: l.KeyID, Signature: sig})
	default:
		return fmt.Errorf("unknown line type %q", l.Type)
	}
	return nil
}
