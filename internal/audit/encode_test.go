package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzEncode holds the hand-written canonical encoding to the bytes
// encoding/json writes for the same event, which is what every stored
// record's hash was computed over.
func FuzzEncode(f *testing.F) {
	f.Add(int64(1764158400123456789), "workload", "https://issuer.example#client-7", "broker.token", "erp-0", "success", "0f3a9c", "reasons", "allowed")
	f.Add(int64(0), "human", "", "secret.read", "", "denied", "", "", "")
	f.Add(int64(-62135596800), "a<b>&c", "\"quoted\"\\", "\b\f\n\r\t\x00\x1f\x7f", "\xff\xfe", "\u2028\u2029", "é中😀", "k\x01", "v\u2028")
	f.Add(int64(1), "x", "y", "z", "w", "v", "u", "", "empty key")
	f.Fuzz(func(t *testing.T, nanos int64, kind, id, action, resource, outcome, reqID, key, value string) {
		ev := Event{
			Time: time.Unix(0, nanos).In(time.FixedZone("X", 3600)), Actor: Actor{Kind: kind, ID: id},
			Action: action, Resource: resource, Outcome: outcome, RequestID: reqID,
		}
		if key != "" || value != "" {
			ev.Details = map[string]string{key: value, "reasons": id, "z" + key: outcome}
		}
		got, err := encode(ev)
		ev.Time = ev.Time.UTC()
		want, werr := json.Marshal(ev)
		if (err != nil) != (werr != nil) {
			t.Fatalf("encode error %v, encoding/json error %v", err, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encode wrote\n%s\nencoding/json wrote\n%s", got, want)
		}
		if err == nil {
			back, err := ParseEvent(got)
			if err != nil || !back.Time.Equal(ev.Time) {
				t.Fatalf("ParseEvent(%s) = %+v, %v", got, back, err)
			}
		}
	})
}

// BenchmarkEncode measures the canonical encoding of a token decision's
// record.
func BenchmarkEncode(b *testing.B) {
	ev := Event{
		Time: time.Now(), Actor: Actor{Kind: ActorWorkload, ID: "oidc:https://token.actions.githubusercontent.com#repo:acme/billing:environment:prod"},
		Action: "broker.token", Resource: "billing-sync-prod", Outcome: OutcomeSuccess, RequestID: "0f3a9c51d2e84b7a6c1d0e9f",
		Details: map[string]string{"reasons": "allowed", "messages": "allowed: workload is consumer 1 of identity billing-sync-prod and no deny rule applies"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}
