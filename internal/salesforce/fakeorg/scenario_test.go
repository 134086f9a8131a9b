package fakeorg

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

const minimal = `org:
  myDomain: t
  id: 00D000000000001EAA
profiles:
  - name: P
    license: Salesforce
users:
  - username: u@t.example
    profile: P
`

func TestScenarioErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yaml     string
		wantLine int
		wantMsg  string
	}{
		{"unknown field", minimal + "  - username: v@t.example\n    profile: P\n    colour: red\n", 12, "unknown field"},
		{"wrong type", minimal + "connectedApps:\n  - name: A\n    scopes: Api\n", 12, ""},
		{"bad time", minimal + "  - username: v@t.example\n    profile: P\n    lastLogin: yesterday\n", 12, "relative time"},
		{"bad org id", strings.Replace(minimal, "00D000000000001EAA", "005000000000001EAA", 1), 3, "org.id"},
		{"unknown profile", minimal + "  - username: v@t.example\n    profile: Nope\n", 11, `profile "Nope" is not defined`},
		{"duplicate user", minimal + "  - username: U@t.example\n    profile: P\n", 10, "duplicate user"},
		{"unknown run-as", minimal + "connectedApps:\n  - name: A\n    runAs: ghost@t.example\n", 12, `user "ghost@t.example"`},
		{"unknown app in login", minimal + "loginHistory:\n  - user: u@t.example\n    app: Nope\n    time: -1d\n", 12, `app "Nope"`},
		{"assignment with both", minimal + "permissionSets:\n  - name: S\npermissionSetGroups:\n  - name: G\n    permissionSets: [S]\nassignments:\n  - user: u@t.example\n    permissionSet: S\n    permissionSetGroup: G\n", 16, "exactly one"},
		{"bad fault", minimal + "faults:\n  - kind: explode\n", 11, "unknown fault kind"},
		{"bad permission", minimal + "permissionSets:\n  - name: S\n    permissions: [api-enabled]\n", 12, "user permission API name"},
		{"malformed", "org: [\n", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario("scenario.yaml", []byte(tt.yaml))
			var se *ScenarioError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *ScenarioError", err)
			}
			if se.File != "scenario.yaml" || se.Line != tt.wantLine || !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("got %q (line %d), want line %d and %q", err, se.Line, tt.wantLine, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "scenario.yaml:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestScenarioSecretNotInErrors(t *testing.T) {
	t.Parallel()
	_, err := ParseScenario("s.yaml", []byte(minimal+"connectedApps:\n  - name: A\n    consumerSecret: [TOPSECRET1234]\n"))
	if err == nil || strings.Contains(err.Error(), "TOPSECRET1234") {
		t.Errorf("error %v leaks the secret value", err)
	}
}

func TestWhen(t *testing.T) {
	t.Parallel()
	sc, err := ParseScenario("s.yaml", []byte(minimal+"  - {username: a@t.example, profile: P, lastLogin: -45d}\n  - {username: b@t.example, profile: P, lastLogin: 2026-07-03T13:12:59Z}\n  - {username: c@t.example, profile: P, lastLogin: 2026-07-03}\n  - {username: d@t.example, profile: P, lastLogin: now}\n"))
	if err != nil {
		t.Fatal(err)
	}
	base := mustTime(t, "2026-11-20T12:00:00Z")
	want := []string{"2026-10-06T12:00:00Z", "2026-07-03T13:12:59Z", "2026-07-03T00:00:00Z", "2026-11-20T12:00:00Z"}
	for i, w := range want {
		if got := sc.Users[i+1].LastLogin.resolve(base).Format("2006-01-02T15:04:05Z07:00"); got != w {
			t.Errorf("user %d: %s, want %s", i+1, got, w)
		}
	}
}

func TestExamplesLoad(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"testdata/basic.yaml", "../../../examples/acme/org/scenario.yaml"} {
		sc, err := LoadScenario(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(sc, Options{}); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestScenarioRoundTrip(t *testing.T) {
	t.Parallel()
	sc := Generate(12, 6, 3)
	sc.Faults = []Fault{{Kind: FaultLatency, Delay: Duration(1500 * time.Millisecond), Count: 2}}
	data, err := yaml.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseScenario("generated.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if diff := cmp.Diff(sc, back, cmp.AllowUnexported(When{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "loginHistory:\n  - {user: u@t.example, time: -3d, count: 2, every: 1d}\n"))
	f.Add([]byte(minimal + "faults:\n  - {kind: latency, delay: 5ms}\n"))
	f.Add([]byte("org: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario("f.yaml", data)
		if err != nil {
			var se *ScenarioError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *ScenarioError", err, err)
			}
			return
		}
		if _, err := New(sc, Options{}); err != nil {
			t.Fatalf("a scenario that parsed does not build: %v", err)
		}
	})
}
