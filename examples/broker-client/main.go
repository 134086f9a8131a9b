// Command broker-client shows a workload using Steward's broker through the
// client package: it exchanges its own JWT for a Salesforce token of an
// Identity and runs a SOQL query with it. The consumer secret never reaches
// it.
//
//	go run ./examples/broker-client -broker https://127.0.0.1:8443 -ca broker.pem \
//	  -identity erp-connector-prod -token-file /var/run/secrets/tokens/steward \
//	  -query "SELECT Id, Name FROM Account LIMIT 5"
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"golang.org/x/oauth2"

	"github.com/steward-dev/steward/client"
)

func main() {
	broker := flag.String("broker", "https://127.0.0.1:8443", "the broker's base URL")
	ca := flag.String("ca", "", "PEM certificate(s) to trust for the broker (default: the system roots)")
	identity := flag.String("identity", "", "the Identity to get a token for")
	tokenFile := flag.String("token-file", "", "file holding the workload's JWT (re-read for every exchange)")
	org := flag.String("org", "", "the org's URL to query (default: the instance_url the broker returns)")
	query := flag.String("query", "SELECT Id, Name FROM Account LIMIT 5", "the SOQL query to run")
	flag.Parse()
	if err := run(*broker, *ca, *identity, *tokenFile, *org, *query); err != nil {
		fmt.Fprintln(os.Stderr, "broker-client:", err)
		os.Exit(1)
	}
}

func run(broker, ca, identity, tokenFile, org, query string) error {
	if identity == "" || tokenFile == "" {
		return fmt.Errorf("pass -identity and -token-file")
	}
	hc := http.DefaultClient
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no PEM certificate", ca)
		}
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	}
	ctx := context.Background()
	src := client.Config{BrokerURL: broker, Identity: identity, SubjectToken: client.FileSubjectToken(tokenFile), HTTPClient: hc}.TokenSource(ctx)
	tok, err := src.Token()
	if err != nil {
		return err
	}
	if org == "" {
		org = client.InstanceURL(tok)
	}
	resp, err := oauth2.NewClient(ctx, src).Get(org + "/services/data/v67.0/query?q=" + url.QueryEscape(query))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("query: %s", resp.Status)
	}
	_, err = io.Copy(os.Stdout, resp.Body)
	return err
}
