package inventory

import (
	"strings"
	"testing"
)

func TestLooksLikeSecretValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"store name", "billing-sync-prod", false},
		{"store path", "salesforce/prod/erp-sync", false},
		{"nested path", "salesforce/billing-sync-prod", false},
		{"long path of words", "vault/kv/integrations/billing-sync-production-eu-west-1", false},
		{"name with a year", "erp-sync-2026", false},
		{"dots and underscores", "billing.sync_v2", false},
		{"numbered parts", "team-42/app-7", false},
		{"one character", "a", false},
		{"empty", "", false},
		{"long name of words", "integration-user-credentials-2026", false},
		{"253 characters", strings.Repeat("a", 253), false},

		{"64 hex", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true},
		{"64 hex upper case", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", true},
		{"32 hex segment", "prod/5f4dcc3b5aa765d61d8327deb882cf99", true},
		{"consumer key", "3MVG9n_HvETGhr3CogbDQGHDGFobOBZPY5Gu7qQbYPYWxSpTn8dMHEnTvMw3FU6mrpfmUPPcD2yyz74UNNFTE", true},
		{"consumer key lower-cased part", "salesforce/3MVG9abc", true},
		{"19-digit consumer secret", "1955279925675241571", true},
		{"16 digits", "4111111111111111", true},
		{"PEM block", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n", true},
		{"random lower-case token", "k8s9d7f6g5h4j3k2l1m0n9b8v7", true},
		{"mixed-case token", "sk7Qm2Xp9Lr4Tz8Vn3Wb6Yc1", true},
		{"base64", "c2VjcmV0LXZhbHVlLWZvci10ZXN0cw==", true},
		{"upper case", "Billing-Sync", true},
		{"space", "billing sync", true},
		{"environment placeholder", "${BILLING_SECRET}", true},
		{"trailing slash", "salesforce/prod/", true},
		{"254 characters", strings.Repeat("a", 254), true},
	}
	for _, tt := range tests {
		if got := LooksLikeSecretValue(tt.in); got != tt.want {
			t.Errorf("%s: LooksLikeSecretValue = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCredentialInlineValue(t *testing.T) {
	t.Parallel()
	ref := Credential{Secret: "salesforce/billing-sync-prod"}
	if ref.InlineValue() || ref.SecretRef() != "salesforce/billing-sync-prod" {
		t.Errorf("reference: InlineValue=%v SecretRef=%q", ref.InlineValue(), ref.SecretRef())
	}
	inline := Credential{Secret: "1955279925675241571"}
	if !inline.InlineValue() || inline.SecretRef() != "" {
		t.Errorf("inline value: InlineValue=%v, SecretRef not empty", inline.InlineValue())
	}
	if (Credential{}).InlineValue() || (Credential{}).SecretRef() != "" {
		t.Errorf("empty credential")
	}
}
