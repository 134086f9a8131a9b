package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-dev/steward/internal/server"
)

// envBrokerURL names the broker the operator commands talk to.
const envBrokerURL = "STEWARD_BROKER_URL"

func newKillCmd(env Env) *cobra.Command {
	var broker, caFile, tokenFile, format string
	var lift, insecure bool
	cmd := &cobra.Command{
		Use:   "kill IDENTITY",
		Short: "Stop a running broker from issuing an Identity's tokens, and revoke those already issued",
		Long: `kill turns an Identity's kill switch on in a running broker: from then on every token
request for it is denied (reason identity_killed), every Salesforce token the broker
handed out for it that is still valid is revoked at the org, and the switch is kept in
the store so that a restart does not lift it. The kill and its lifting are recorded in
the audit log. --lift turns the switch off again.

It needs an admin token of the broker: $` + server.EnvAdminToken + ` or --token-file.
The consumer secret is not touched: rotate or destroy it with 'steward secret' if it
may have leaked.`,
		Example: `  # Stop issuance for a compromised integration at once
  export STEWARD_ADMIN_TOKEN=$(cat /etc/steward/admin.token)
  steward kill billing-sync-prod --broker https://steward.acme.internal --ca-file ca.pem

  # Lift it after the investigation
  steward kill billing-sync-prod --lift --broker https://steward.acme.internal --ca-file ca.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usageError(fmt.Errorf("unknown format %q", format), "use -o table or -o json")
			}
			token := strings.TrimSpace(env.Getenv(server.EnvAdminToken))
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return usageError(fmt.Errorf("read the admin token: %w", err), "check --token-file")
				}
				token = strings.TrimSpace(string(b))
			}
			if token == "" {
				return usageError(errors.New("no admin token"), "set $"+server.EnvAdminToken+" or pass --token-file")
			}
			if broker == "" {
				broker = env.Getenv(envBrokerURL)
			}
			if broker == "" {
				broker = "https://" + server.DefaultListen
			}
			tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
			if caFile != "" {
				pem, err := os.ReadFile(caFile)
				if err != nil {
					return usageError(fmt.Errorf("read the CA file: %w", err), "check --ca-file")
				}
				tlsCfg.RootCAs = x509.NewCertPool()
				if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
					return usageError(fmt.Errorf("%s holds no PEM certificate", caFile), "check --ca-file")
				}
			}
			method := http.MethodPost
			if lift {
				method = http.MethodDelete
			}
			endpoint := strings.TrimRight(broker, "/") + "/v1/identities/" + url.PathEscape(args[0]) + "/kill"
			req, err := http.NewRequestWithContext(cmd.Context(), method, endpoint, nil)
			if err != nil {
				return usageError(err, "check --broker")
			}
			req.Header.Set("Authorization", "Bearer "+token)
			hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
			resp, err := hc.Do(req)
			if err != nil {
				return fmt.Errorf("reach the broker: %w", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			var res struct {
				Identity string `json:"identity"`
				Killed   bool   `json:"killed"`
				Revoked  int    `json:"revoked"`
				Warning  string `json:"warning"`
				Error    string `json:"error"`
			}
			if err := json.Unmarshal(body, &res); err != nil {
				return fmt.Errorf("broker answered %s with no JSON", resp.Status)
			}
			switch resp.StatusCode {
			case http.StatusOK, http.StatusInternalServerError, http.StatusBadGateway:
			case http.StatusUnauthorized, http.StatusForbidden:
				return usageError(fmt.Errorf("broker refused: %s", res.Error), "use an admin token of this broker")
			case http.StatusNotFound:
				return usageError(fmt.Errorf("broker: %s", res.Error), "check the Identity's name with GET /v1/identities")
			default:
				return fmt.Errorf("broker answered %s: %s", resp.Status, res.Error)
			}
			if format == "json" {
				env.Stdout.Write(body)
			} else if res.Killed {
				fmt.Fprintf(env.Stdout, "killed %s: issuance blocked, %d token(s) revoked at the org\n", res.Identity, res.Revoked)
			} else {
				fmt.Fprintf(env.Stdout, "lifted the kill switch of %s: tokens are issued again\n", res.Identity)
			}
			if res.Warning != "" {
				return &exitError{code: ExitFindings, err: errors.New(res.Warning), hint: "see the broker's log"}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&broker, "broker", "", "the broker's URL (default $"+envBrokerURL+", else https://"+server.DefaultListen+")")
	f.StringVar(&caFile, "ca-file", "", "PEM certificate(s) to trust for the broker")
	f.BoolVar(&insecure, "insecure", false, "do not verify the broker's certificate (development certificates only)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the admin token (default $"+server.EnvAdminToken+")")
	f.BoolVar(&lift, "lift", false, "turn the kill switch off again")
	f.StringVarP(&format, "format", "o", "table", "table or json")
	return cmd
}
