package workload

import (
	"testing"

	"github.com/steward-dev/steward/internal/snapshot"
)

func TestMatchConsumer(t *testing.T) {
	consumers := []snapshot.Consumer{
		{OIDCIssuer: "https://token.actions.githubusercontent.com", OIDCSubject: "repo:acme/billing:environment:prod"},
		{SPIFFE: "spiffe://acme.org/ns/billing/sa/sync"},
		{OIDCIssuer: "https://token.actions.githubusercontent.com", OIDCSubject: "repo:acme/*"},
		{OIDCIssuer: "https://kubernetes.default.svc", OIDCSubject: ""},
	}
	gh := func(sub string) *Workload {
		return &Workload{Method: MethodOIDC, Issuer: "https://token.actions.githubusercontent.com", Subject: sub}
	}
	tests := []struct {
		name string
		w    *Workload
		want int
	}{
		{"exact OIDC", gh("repo:acme/billing:environment:prod"), 0},
		{"exact SPIFFE", &Workload{Method: MethodSPIFFE, SPIFFEID: "spiffe://acme.org/ns/billing/sa/sync"}, 1},
		{"wildcard is literal", gh("repo:acme/payroll:environment:prod"), -1},
		{"literal asterisk subject", gh("repo:acme/*"), 2},
		{"subject prefix", gh("repo:acme/billing:environment:prod2"), -1},
		{"subject case", gh("repo:Acme/billing:environment:prod"), -1},
		{"issuer trailing slash", &Workload{Method: MethodOIDC, Issuer: "https://token.actions.githubusercontent.com/", Subject: "repo:acme/billing:environment:prod"}, -1},
		{"empty consumer subject", &Workload{Method: MethodOIDC, Issuer: "https://kubernetes.default.svc", Subject: ""}, -1},
		{"SPIFFE child path", &Workload{Method: MethodSPIFFE, SPIFFEID: "spiffe://acme.org/ns/billing/sa/sync/x"}, -1},
		{"SPIFFE ID in an OIDC subject", &Workload{Method: MethodOIDC, Issuer: "x", Subject: "spiffe://acme.org/ns/billing/sa/sync"}, -1},
		{"nil workload", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchConsumer(tt.w, consumers); got != tt.want {
				t.Errorf("MatchConsumer = %d, want %d", got, tt.want)
			}
		})
	}
}
