package fakeorg

import (
	"net/url"
	"testing"
)

func TestSecretRotation(t *testing.T) {
	t.Parallel()
	o := startBasic(t)
	const next = "SCANNERSECRET0002"
	status := func(secret string) int {
		return o.form(t, "/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {scannerKey}, "client_secret": {secret}}, nil).status
	}
	if got := status(next); got != 400 {
		t.Fatalf("unstaged secret: status %d, want 400", got)
	}
	if err := o.srv.StageSecret("Nope", next); err == nil {
		t.Fatal("staging for an unknown app succeeded")
	}
	if err := o.srv.StageSecret("Scanner", next); err != nil {
		t.Fatal(err)
	}
	if status(scannerSecret) != 200 || status(next) != 200 {
		t.Fatal("while staged, both secrets must be accepted")
	}
	oldToken := o.login(t, scannerKey, scannerSecret)
	if err := o.srv.ApplySecret("Scanner"); err != nil {
		t.Fatal(err)
	}
	if got := status(scannerSecret); got != 400 {
		t.Fatalf("old secret after apply: status %d, want 400", got)
	}
	if got := status(next); got != 200 {
		t.Fatalf("new secret after apply: status %d, want 200", got)
	}
	if r := o.query(t, oldToken, "SELECT Id FROM User LIMIT 1"); r.status != 200 {
		t.Fatalf("a session minted with the old secret ended at apply: %d %s", r.status, r.body)
	}
	if err := o.srv.ApplySecret("Scanner"); err == nil {
		t.Fatal("applying with nothing staged succeeded")
	}
	o.srv.StageSecret("Scanner", "SCANNERSECRET0003")
	if err := o.srv.DiscardSecret("Scanner"); err != nil {
		t.Fatal(err)
	}
	if status("SCANNERSECRET0003") != 400 || status(next) != 200 {
		t.Fatal("discard must drop the staged secret and keep the current one")
	}
}
