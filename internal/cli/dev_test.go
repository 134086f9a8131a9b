package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDev starts 'steward dev' and follows its printed instructions.
func TestDev(t *testing.T) {
	var stdout, stderr syncBuffer
	env := Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" }, Now: time.Now, IsTerminal: func(io.Writer) bool { return false },
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"dev", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, env) }()
	var base, jwt string
	for deadline := time.Now().Add(30 * time.Second); jwt == ""; time.Sleep(20 * time.Millisecond) {
		out := stdout.String()
		if m := regexp.MustCompile(`(?m)^JWT=(\S+)$`).FindStringSubmatch(out); m != nil {
			jwt = m[1]
			base = regexp.MustCompile(`listening on (https://\S+)`).FindStringSubmatch(out)[1]
		}
		select {
		case code := <-done:
			t.Fatalf("dev exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev did not start:\n%s", stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "curl -sk "+base+"/v1/token") {
		t.Errorf("no curl example:\n%s", stdout.String())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.PostForm(base+"/v1/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"},
		"subject_token": {jwt}, "audience": {devIdentity},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	// The emulated app's 15-minute session, less the 2-minute margin.
	if out.ExpiresIn > 13*60 || out.ExpiresIn < 12*60 {
		t.Errorf("expires_in = %d, want about 780", out.ExpiresIn)
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		t.Errorf("printed example: %d %+v\n%s", resp.StatusCode, out, stderr.String())
	}
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("dev exited %d:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop")
	}
	if code := Main(context.Background(), []string{"dev", "--addr", "0.0.0.0:8443"}, env); code != 2 {
		t.Errorf("dev on a public address: exit %d, want 2", code)
	}
}
