// Command gen writes a synthetic Salesforce DX project with N client-credentials
// integrations and their inventory, for benchmarking `steward check`.
//
// Half the integrations use External Client Apps (four files each), half
// connected apps; each has its own permission set, Identity manifest and
// owning team, and one in ten carries a typical failure (broad scopes, IP
// bypass, an administrator run-as user, an overdue review), so the policy
// pack has real work to do.
//
//	go run ./bench/gen -n 10000 -out /tmp/steward-bench-10k
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	n := flag.Int("n", 10000, "number of integrations")
	out := flag.String("out", "", "output directory (created; must not exist)")
	flag.Parse()
	if *out == "" || *n <= 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -n N -out DIR")
		os.Exit(2)
	}
	if err := generate(*out, *n); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

type writer struct {
	root string
	err  error
}

func (w *writer) file(rel, content string) {
	if w.err != nil {
		return
	}
	path := filepath.Join(w.root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		w.err = err
		return
	}
	w.err = os.WriteFile(path, []byte(content), 0o644)
}

func generate(root string, n int) error {
	if _, err := os.Stat(root); err == nil {
		return fmt.Errorf("%s already exists", root)
	}
	w := &writer{root: root}
	d := "force-app/main/default/"
	w.file(d+"profiles/Minimum Access - API Only Integrations.profile-meta.xml", profile("Salesforce Integration", "ApiEnabled", "ApiUserOnly"))
	w.file(d+"profiles/Admin.profile-meta.xml", profile("Salesforce", "ApiEnabled", "ModifyAllData", "ViewAllData", "ManageUsers"))

	// Manifests go 500 integrations to a file, well under the 10 MiB limit.
	var bw *bufio.Writer
	var inv *os.File
	closeInv := func() error {
		if inv == nil {
			return nil
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return inv.Close()
	}
	for i := 0; i < n; i++ {
		if i%500 == 0 {
			if err := closeInv(); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(root, "inventory"), 0o755); err != nil {
				return err
			}
			f, err := os.Create(filepath.Join(root, "inventory", fmt.Sprintf("identities-%03d.yaml", i/500)))
			if err != nil {
				return err
			}
			inv, bw = f, bufio.NewWriterSize(f, 1<<20)
		}
		name := fmt.Sprintf("Integration_%05d", i)
		user := fmt.Sprintf("int%05d@bench.example", i)
		risky := i%10 == 9
		scopes, relax, prof, reviewed := "Api", "ENFORCE", "Minimum Access - API Only Integrations", "2026-10-01"
		if risky {
			scopes, relax, prof, reviewed = "Api, Full, RefreshToken", "BYPASS", "System Administrator", "2025-01-01"
		}
		if i%2 == 0 {
			writeECA(w, d, name, user, scopes, relax)
		} else {
			writeConnectedApp(w, d, name, user, scopes, relax)
		}
		w.file(d+"permissionsets/"+name+".permissionset-meta.xml", permissionSet(name))
		fmt.Fprintf(bw, `apiVersion: steward.dev/v1alpha1
kind: Team
metadata: {name: team-%05d}
spec:
  members: [owner%05d@bench.example]
  backup: sec-oncall@bench.example
---
apiVersion: steward.dev/v1alpha1
kind: Identity
metadata:
  name: integration-%05d
spec:
  service: service-%05d
  owner: team-%05d
  environment: production
  criticality: medium
  purpose: Synthetic integration %d
  salesforce:
    url: https://bench.my.salesforce.com
    app: %s
    runAs: %s
    runAsProfile: %s
    runAsPermissionSets: [%s]
  access:
    scopes: [api]
    objects:
      Account: [read, edit]
  credential:
    secret: integration-%05d
    rotationDays: 90
    rotatedAt: 2026-10-01
  review:
    intervalDays: 90
    lastReviewed: %s
---
`, i, i, i, i, i, i, name, user, prof, name, i, reviewed)
	}
	if err := closeInv(); err != nil {
		return err
	}
	return w.err
}

func writeECA(w *writer, d, name, user, scopes, relax string) {
	ecaRelax := map[string]string{"ENFORCE": "Enforce", "BYPASS": "Bypass"}[relax]
	w.file(d+"externalClientApps/"+name+".eca-meta.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ExternalClientApplication xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>owner@bench.example</contactEmail>
    <distributionState>Local</distributionState>
    <label>`+name+`</label>
</ExternalClientApplication>
`)
	w.file(d+"extlClntAppOauthSettings/"+name+"_oauth.ecaOauth-meta.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <commaSeparatedOauthScopes>`+scopes+`</commaSeparatedOauthScopes>
    <externalClientApplication>`+name+`</externalClientApplication>
    <label>`+name+`</label>
    <trustedIpRanges>
        <endIpAddress>203.0.113.20</endIpAddress>
        <startIpAddress>203.0.113.10</startIpAddress>
    </trustedIpRanges>
</ExtlClntAppOauthSettings>
`)
	w.file(d+"extlClntAppOauthPolicies/"+name+"_plcy.ecaOauthPlcy-meta.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppOauthConfigurablePolicies xmlns="http://soap.sforce.com/2006/04/metadata">
    <clientCredentialsFlowUser>`+user+`</clientCredentialsFlowUser>
    <externalClientApplication>`+name+`</externalClientApplication>
    <ipRelaxationPolicyType>`+ecaRelax+`</ipRelaxationPolicyType>
    <isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>
    <label>`+name+`</label>
    <permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>
    <refreshTokenPolicyType>Zero</refreshTokenPolicyType>
    <sessionTimeoutInMinutes>15</sessionTimeoutInMinutes>
</ExtlClntAppOauthConfigurablePolicies>
`)
	w.file(d+"extlClntAppPolicies/"+name+"_plcy.ecaPlcy-meta.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppConfigurablePolicies xmlns="http://soap.sforce.com/2006/04/metadata">
    <externalClientApplication>`+name+`</externalClientApplication>
    <isEnabled>true</isEnabled>
    <isOauthPluginEnabled>true</isOauthPluginEnabled>
    <label>`+name+`</label>
</ExtlClntAppConfigurablePolicies>
`)
}

func writeConnectedApp(w *writer, d, name, user, scopes, relax string) {
	var scopeXML string
	for _, s := range map[string][]string{"Api": {"Api"}, "Api, Full, RefreshToken": {"Api", "Full", "RefreshToken"}}[scopes] {
		scopeXML += "        <scopes>" + s + "</scopes>\n"
	}
	w.file(d+"connectedApps/"+name+".connectedApp-meta.xml", `<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>owner@bench.example</contactEmail>
    <label>`+name+`</label>
    <oauthConfig>
        <callbackUrl>https://login.salesforce.com/services/oauth2/callback</callbackUrl>
        <isAdminApproved>true</isAdminApproved>
        <isClientCredentialEnabled>true</isClientCredentialEnabled>
        <oauthClientCredentialUser>`+user+`</oauthClientCredentialUser>
`+scopeXML+`    </oauthConfig>
    <oauthPolicy>
        <ipRelaxation>`+relax+`</ipRelaxation>
        <refreshTokenPolicy>zero</refreshTokenPolicy>
    </oauthPolicy>
    <sessionPolicy>
        <sessionTimeout>15</sessionTimeout>
    </sessionPolicy>
</ConnectedApp>
`)
}

func permissionSet(name string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <hasActivationRequired>false</hasActivationRequired>
    <label>` + name + `</label>
    <objectPermissions>
        <allowCreate>false</allowCreate>
        <allowDelete>false</allowDelete>
        <allowEdit>true</allowEdit>
        <allowRead>true</allowRead>
        <modifyAllRecords>false</modifyAllRecords>
        <object>Account</object>
        <viewAllRecords>false</viewAllRecords>
    </objectPermissions>
    <userPermissions>
        <enabled>true</enabled>
        <name>ApiEnabled</name>
    </userPermissions>
</PermissionSet>
`
}

func profile(license string, perms ...string) string {
	s := `<?xml version="1.0" encoding="UTF-8"?>
<Profile xmlns="http://soap.sforce.com/2006/04/metadata">
    <custom>false</custom>
    <userLicense>` + license + `</userLicense>
`
	for _, p := range perms {
		s += "    <userPermissions>\n        <enabled>true</enabled>\n        <name>" + p + "</name>\n    </userPermissions>\n"
	}
	return s + "</Profile>\n"
}
