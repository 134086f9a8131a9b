package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/steward-dev/steward/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenFiles maps each format to its golden file.
var goldenFiles = map[string]string{
	"table":    "report.table.txt",
	"json":     "report.json",
	"sarif":    "report.sarif",
	"markdown": "report.md",
}

func ptr(s string) *string { return &s }

// testReport is a hand-built report that exercises every branch the
// reporters have: findings with and without identity, with and without
// file and line, a rule the report's rule list lacks, a rule without
// findings, suppressed findings, errors and warnings. Findings are out of
// order on purpose.
func testReport() *Report {
	appFile := "force-app/main/default/connectedApps/Billing_Sync.connectedApp-meta.xml"
	legacyFile := "force-app/main/default/connectedApps/Legacy_Export.connectedApp-meta.xml"
	return &Report{
		Tool: Tool{Name: "steward", Version: "1.2.3"},
		Rules: []policy.Rule{
			{
				ID: "NHI-RUN-01", Title: "Run-as user is not a dedicated integration user", Severity: "critical",
				Controls:    []string{"OWASP NHI5:2025", "OWASP NHI10:2025", "NIST CSF PR.AA-05", "NIST 800-53 AC-6(5)", "CIS 5.4"},
				Remediation: "Run the integration as an API-only user with the Salesforce Integration license.",
				Description: "A client-credentials token acts as its run-as user.",
			},
			{
				ID: "NHI-APP-02", Title: "Client-credentials app requests scopes beyond api", Severity: "high",
				Controls:    []string{"OWASP NHI5:2025", "OWASP NHI4:2025", "NIST CSF PR.AA-05", "NIST CSF PR.PS-01", "NIST 800-53 AC-6", "CIS 6.8"},
				Remediation: "Remove every scope but api from the app's OAuth settings.",
				Description: "Scopes such as full and refresh_token give an integration reach it never needs.",
			},
			{
				ID: "NHI-SEC-01", Title: "Consumer secret committed to the repository", Severity: "critical",
				Controls:    []string{"OWASP NHI2:2025", "OWASP NHI7:2025", "NIST CSF PR.AA-01", "NIST CSF PR.DS-01"},
				Remediation: "Rotate the consumer secret, then remove it from the file and from history.",
			},
			{
				ID: "NHI-INV-01", Title: "Client-credentials app has no Identity", Severity: "medium",
				Controls:    []string{"OWASP NHI1:2025", "NIST CSF ID.AM-02", "NIST CSF GV.RR-02"},
				Remediation: "Declare an Identity for the app, with an owning team.",
			},
			{
				ID: "NHI-REV-01", Title: "Access review overdue", Severity: "low",
				Controls:    []string{"NIST CSF PR.AA-05", "NIST CSF ID.RA-07"},
				Remediation: "Review the identity's access and record the review.",
			},
			{
				ID: "NHI-ENV-01", Title: "One app serves production and a sandbox", Severity: "high",
				Controls:    []string{"OWASP NHI8:2025", "NIST CSF PR.IR-01"},
				Remediation: "Create one app per environment.",
			},
		},
		Findings: []policy.Finding{
			{
				Rule: "NHI-REV-01", Severity: "low", Title: "Access review overdue",
				Message:  "Identity marketing-sync was last reviewed on 2025-01-10; its review interval is 90 days",
				Identity: ptr("marketing-sync"),
				Resource: policy.Resource{Kind: "Identity", Name: "marketing-sync", File: "inventory/marketing-sync.yaml", Line: 3},
				Controls: []string{"NIST CSF PR.AA-05", "NIST CSF ID.RA-07"}, Remediation: "Review the identity's access and record the review.",
			},
			{
				Rule: "NHI-INV-01", Severity: "medium", Title: "Client-credentials app has no Identity",
				Message:  "Connected app Legacy_Export uses the client-credentials flow but no Identity declares it",
				Resource: policy.Resource{Kind: "ConnectedApp", Name: "Legacy_Export", File: legacyFile},
				Controls: []string{"OWASP NHI1:2025", "NIST CSF ID.AM-02", "NIST CSF GV.RR-02"}, Remediation: "Declare an Identity for the app, with an owning team.",
			},
			{
				Rule: "NHI-APP-02", Severity: "high", Title: "Client-credentials app requests scopes beyond api",
				Message:     "Connected app Billing_Sync requests full, refresh_token",
				Identity:    ptr("billing-sync-prod"),
				Resource:    policy.Resource{Kind: "ConnectedApp", Name: "Billing_Sync", File: appFile, Line: 14},
				Controls:    []string{"OWASP NHI5:2025", "OWASP NHI4:2025", "NIST CSF PR.AA-05", "NIST CSF PR.PS-01", "NIST 800-53 AC-6", "CIS 6.8"},
				Remediation: "Remove every scope but api from the app's OAuth settings.",
			},
			{
				Rule: "ACME-01", Severity: "info", Title: "Org has no login IP ranges",
				Message:  "Org acme-prod has no login IP ranges | checked <Network Access>",
				Identity: ptr("marketing-sync"),
				Resource: policy.Resource{Kind: "Org", Name: "acme-prod"},
				Controls: []string{"NIST CSF PR.IR-01", "ACME net-7"}, Remediation: "Set login IP ranges on the integration profile.",
			},
			{
				Rule: "NHI-SEC-01", Severity: "critical", Title: "Consumer secret committed to the repository",
				Message:     "Connected app Legacy_Export has its consumer secret in the file",
				Resource:    policy.Resource{Kind: "ConnectedApp", Name: "Legacy_Export", File: legacyFile, Line: 22},
				Controls:    []string{"OWASP NHI2:2025", "OWASP NHI7:2025", "NIST CSF PR.AA-01", "NIST CSF PR.DS-01"},
				Remediation: "Rotate the consumer secret, then remove it from the file and from history.",
			},
			{
				Rule: "NHI-RUN-01", Severity: "critical", Title: "Run-as user is not a dedicated integration user",
				Message:     "Run-as user integration.billing@acme.example is not a dedicated integration user: it has the System Administrator profile (System Administrator)",
				Identity:    ptr("billing-sync-prod"),
				Resource:    policy.Resource{Kind: "User", Name: "integration.billing@acme.example"},
				Controls:    []string{"OWASP NHI5:2025", "OWASP NHI10:2025", "NIST CSF PR.AA-05", "NIST 800-53 AC-6(5)", "CIS 5.4"},
				Remediation: "Run the integration as an API-only user with the Salesforce Integration license.",
			},
		},
		Suppressed: []policy.Finding{
			{
				Rule: "NHI-APP-02", Severity: "high", Title: "Client-credentials app requests scopes beyond api",
				Message:      "Connected app Marketing_Sync requests refresh_token",
				Identity:     ptr("marketing-sync"),
				Resource:     policy.Resource{Kind: "ConnectedApp", Name: "Marketing_Sync", File: "force-app/main/default/connectedApps/Marketing_Sync.connectedApp-meta.xml", Line: 9},
				Controls:     []string{"OWASP NHI5:2025", "OWASP NHI4:2025", "NIST CSF PR.AA-05", "NIST CSF PR.PS-01", "NIST 800-53 AC-6", "CIS 6.8"},
				Remediation:  "Remove every scope but api from the app's OAuth settings.",
				SuppressedBy: "marketing-refresh-token",
			},
		},
		Errors: []Problem{
			{File: "force-app/main/default/profiles/Broken.profile-meta.xml", Line: 7, Message: "XML syntax error: unexpected EOF"},
		},
		Warnings: []Problem{
			{File: appFile, Line: 30, Message: "unknown element mobileSessionTimeout ignored"},
			{File: "inventory/teams.yaml", Message: "file has no manifests"},
		},
	}
}

func render(t *testing.T, format string, r *Report, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, r, opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			got := render(t, format, testReport(), Options{})
			path := filepath.Join("testdata", goldenFiles[format])
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/report -run TestGolden -update, then review the file)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s output differs from %s (-want +got):\n%s", format, path, diff)
			}
		})
	}
}

func TestFormatsHaveGoldens(t *testing.T) {
	for _, f := range Formats() {
		if goldenFiles[f] == "" {
			t.Errorf("format %q has no golden file", f)
		}
	}
}

// TestOrderIndependent checks that every format sorts the findings itself:
// reversed input renders to the same bytes.
func TestOrderIndependent(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			r := testReport()
			want := render(t, format, r, Options{})
			slices.Reverse(r.Findings)
			slices.Reverse(r.Rules)
			if got := render(t, format, r, Options{}); !bytes.Equal(got, want) {
				t.Errorf("output depends on input order (-first +reversed):\n%s", cmp.Diff(string(want), string(got)))
			}
		})
	}
}

func TestWriteLeavesReportAlone(t *testing.T) {
	r := testReport()
	before := testReport()
	for _, format := range Formats() {
		render(t, format, r, Options{Color: true})
	}
	if diff := cmp.Diff(before, r); diff != "" {
		t.Errorf("Write modified the report (-before +after):\n%s", diff)
	}
}

func TestSort(t *testing.T) {
	mk := func(sev, rule string, id *string, file string, line int, name string) policy.Finding {
		return policy.Finding{Rule: rule, Severity: sev, Identity: id, Resource: policy.Resource{Kind: "ConnectedApp", Name: name, File: file, Line: line}}
	}
	want := []policy.Finding{
		mk("critical", "B", ptr("z"), "", 0, "x"),
		mk("high", "A", ptr("a"), "f", 2, "x"),
		mk("high", "A", ptr("a"), "f", 10, "x"),
		mk("high", "A", ptr("a"), "g", 1, "x"),
		mk("high", "A", ptr("b"), "", 0, "x"),
		mk("high", "A", nil, "", 0, "a"),
		mk("high", "A", nil, "", 0, "b"),
		mk("high", "B", ptr("a"), "", 0, "x"),
		mk("medium", "A", ptr("a"), "", 0, "x"),
		mk("info", "A", ptr("a"), "", 0, "x"),
		mk("bogus", "A", ptr("a"), "", 0, "x"),
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sort (-want +got):\n%s", diff)
	}
}

func TestUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, "yaml", testReport(), Options{})
	if err == nil {
		t.Fatal("Write(yaml) succeeded, want an error")
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list format %q", err, f)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("Write(yaml) wrote %q", buf.String())
	}
}

func TestFormatsIsACopy(t *testing.T) {
	Formats()[0] = "changed"
	if Formats()[0] != "table" {
		t.Error("Formats returns the package's own slice")
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.xml", Line: 3, Message: "bad"}, "a.xml:3: bad"},
		{Problem{File: "a.xml", Message: "bad"}, "a.xml: bad"},
		{Problem{Message: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
