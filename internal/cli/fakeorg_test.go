package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeorgScenario is the Acme example org.
const fakeorgScenario = "../../examples/acme/org/scenario.yaml"

func TestFakeorgServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	env := Env{
		Stdin: strings.NewReader(""), Stdout: pw, Stderr: &stderr,
		Getenv: func(string) string { return "" }, Now: time.Now, IsTerminal: func(io.Writer) bool { return false },
	}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"fakeorg", "--scenario", fakeorgScenario, "--addr", "127.0.0.1:0"}, env)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var out strings.Builder
	var url string
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if m := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
		if strings.HasPrefix(lines.Text(), "Faults:") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		t.Fatalf("no URL printed:\n%s", out.String())
	}
	resp, err := http.Get(url + "/services/data/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("versions: %d", resp.StatusCode)
	}
	text := out.String()
	for _, want := range []string{"Scanner app: Steward_Scanner", ".connectedApps[0].consumerKey", "export STEWARD_SF_CLIENT_SECRET=", "acme.my.salesforce.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "EXAMPLE00SCANNER00SECRET") {
		t.Error("fakeorg printed the scanner's consumer secret")
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fakeorg did not shut down")
	}
}

func TestFakeorgUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"fakeorg"}, "--scenario is required"},
		{"remote address", []string{"fakeorg", "--scenario", fakeorgScenario, "--addr", "0.0.0.0:8443"}, "not a loopback address"},
		{"bad address", []string{"fakeorg", "--scenario", fakeorgScenario, "--addr", "nope"}, "bad --addr"},
		{"missing file", []string{"fakeorg", "--scenario", "testdata/nope.yaml", "--addr", "127.0.0.1:0"}, "read scenario"},
		{"invalid scenario", []string{"fakeorg", "--scenario", "../inventory/testdata/invalid/unknown-field.yaml", "--addr", "127.0.0.1:0"}, "unknown-field.yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestFakeorgHelp(t *testing.T) {
	code, stdout, _ := run(t, "fakeorg", "--help")
	if code != ExitOK || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "--allow-remote") {
		t.Errorf("help: %d\n%s", code, stdout)
	}
}
