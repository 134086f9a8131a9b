package secrets

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxBundle bounds a bundle's encoded size.
const maxBundle = 64 << 10

// Bundle is a Salesforce client-credentials bundle. Its String and
// GoString methods never print the values.
type Bundle struct {
	// URL is the org's My Domain URL or its token endpoint.
	URL string `json:"url"`
	// ConsumerKey is the connected app's or External Client App's client id.
	ConsumerKey string `json:"consumerKey"`
	// ConsumerSecret is the client secret.
	ConsumerSecret string `json:"consumerSecret"`
	// PrivateKey is an optional PEM private key (JWT bearer flow).
	PrivateKey string `json:"privateKey,omitempty"`
}

// String hides the values.
func (Bundle) String() string { return "secrets.Bundle{redacted}" }

// GoString hides the values from %#v.
func (b Bundle) GoString() string { return b.String() }

// ParseBundle reads a bundle written as a JSON object with url,
// consumerKey, consumerSecret and optionally privateKey. source names the
// input in errors, which never contain any of the values.
func ParseBundle(data []byte, source string) (Bundle, error) {
	if len(data) > maxBundle {
		return Bundle{}, fmt.Errorf("%s: bundle is %d bytes, more than the %d allowed", source, len(data), maxBundle)
	}
	if !utf8.Valid(data) {
		return Bundle{}, fmt.Errorf("%s: bundle is not valid UTF-8", source)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		return Bundle{}, fmt.Errorf("%s: %s", source, jsonProblem(data, err))
	}
	if dec.More() {
		return Bundle{}, fmt.Errorf("%s: unexpected data after the bundle's JSON object", source)
	}
	if err := b.validate(); err != nil {
		return Bundle{}, fmt.Errorf("%s: %w", source, err)
	}
	return b, nil
}

// jsonProblem describes a decoding error by position and field name only.
func jsonProblem(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("line %d: malformed JSON", 1+bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")))
	case errors.As(err, &te):
		return fmt.Sprintf("field %s must be a %s", te.Field, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + " (allowed: url, consumerKey, consumerSecret, privateKey)"
	case err.Error() == "EOF":
		return "empty input: write the bundle as a JSON object on stdin or in the file"
	}
	return "malformed JSON"
}

func (b Bundle) validate() error {
	u, err := url.Parse(b.URL)
	switch {
	case b.URL == "":
		return errors.New("url is required (the org's My Domain URL, https://<domain>.my.salesforce.com)")
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil:
		return errors.New("url must be an https URL with a host and no user information")
	case b.ConsumerKey == "":
		return errors.New("consumerKey is required")
	case b.ConsumerSecret == "":
		return errors.New("consumerSecret is required")
	}
	if b.PrivateKey != "" {
		blk, _ := pem.Decode([]byte(b.PrivateKey))
		if blk == nil || !strings.Contains(blk.Type, "PRIVATE KEY") {
			return errors.New("privateKey must be a PEM private key")
		}
	}
	return nil
}
