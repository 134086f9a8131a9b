package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Decode reads one snapshot in the JSON form Steward writes (check
// --dump-snapshot). Unknown fields, trailing data and a format other than
// FormatVersion are errors; a syntax or type error gives its line.
func Decode(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: unexpected data after the snapshot", lineAt(data, dec.InputOffset()))
	}
	if s.Format != FormatVersion {
		return nil, fmt.Errorf("format %q is not a snapshot (want %q; write one with steward check --dump-snapshot)", s.Format, FormatVersion)
	}
	return &s, nil
}

// jsonError adds the line of a decoding error.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: %w", lineAt(data, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("line %d: %w", lineAt(data, typ.Offset), err)
	case errors.Is(err, io.EOF):
		return errors.New("empty file: no snapshot")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of file")
	}
	return err
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	line := 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
		}
	}
	return line
}
