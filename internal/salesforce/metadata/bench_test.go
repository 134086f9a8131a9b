package metadata

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoad loads a generated project of 1,000 connected apps, 1,000
// permission sets and 5 large profiles, and reports files per second.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	files := writeBenchProject(b, dir, 1000, 1000, 5)
	paths := []string{dir}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		set, err := Load(context.Background(), paths, Options{})
		if err != nil || set.Files != files {
			b.Fatalf("Load: %d files, %v", set.Files, err)
		}
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkLoad10k loads a project of 10,000 integrations shaped like the
// bench/gen fixture: about 35,000 small files, half the integrations as
// External Client Apps (four files each), half as connected apps, each with
// a permission set. It measures the per-file costs: listing, opening,
// reading and parsing small documents.
func BenchmarkLoad10k(b *testing.B) {
	const n = 10000
	const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
	dir := b.TempDir()
	d := "force-app/main/default/"
	files := 0
	for i := range n {
		name := fmt.Sprintf("Integration_%05d", i)
		user := fmt.Sprintf("int%05d@bench.example", i)
		if i%2 == 0 {
			writeFile(b, dir, d+"externalClientApps/"+name+".eca-meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExternalClientApplication "+ns+">\n    <contactEmail>owner@bench.example</contactEmail>\n    <distributionState>Local</distributionState>\n    <label>"+name+"</label>\n</ExternalClientApplication>\n")
			writeFile(b, dir, d+"extlClntAppOauthSettings/"+name+"_oauth.ecaOauth-meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExtlClntAppOauthSettings "+ns+">\n    <commaSeparatedOauthScopes>Api</commaSeparatedOauthScopes>\n    <externalClientApplication>"+name+"</externalClientApplication>\n    <label>"+name+"</label>\n    <trustedIpRanges>\n        <endIpAddress>203.0.113.20</endIpAddress>\n        <startIpAddress>203.0.113.10</startIpAddress>\n    </trustedIpRanges>\n</ExtlClntAppOauthSettings>\n")
			writeFile(b, dir, d+"extlClntAppOauthPolicies/"+name+"_plcy.ecaOauthPlcy-meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExtlClntAppOauthConfigurablePolicies "+ns+">\n    <clientCredentialsFlowUser>"+user+"</clientCredentialsFlowUser>\n    <externalClientApplication>"+name+"</externalClientApplication>\n    <ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>\n    <isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>\n    <label>"+name+"</label>\n    <permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>\n    <refreshTokenPolicyType>Zero</refreshTokenPolicyType>\n    <sessionTimeoutInMinutes>15</sessionTimeoutInMinutes>\n</ExtlClntAppOauthConfigurablePolicies>\n")
			writeFile(b, dir, d+"extlClntAppPolicies/"+name+"_plcy.ecaPlcy-meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExtlClntAppConfigurablePolicies "+ns+">\n    <externalClientApplication>"+name+"</externalClientApplication>\n    <isEnabled>true</isEnabled>\n    <isOauthPluginEnabled>true</isOauthPluginEnabled>\n    <label>"+name+"</label>\n</ExtlClntAppConfigurablePolicies>\n")
			files += 4
		} else {
			writeFile(b, dir, d+"connectedApps/"+name+".connectedApp-meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ConnectedApp "+ns+">\n    <contactEmail>owner@bench.example</contactEmail>\n    <label>"+name+"</label>\n    <oauthConfig>\n        <callbackUrl>https://login.salesforce.com/services/oauth2/callback</callbackUrl>\n        <isAdminApproved>true</isAdminApproved>\n        <isClientCredentialEnabled>true</isClientCredentialEnabled>\n        <oauthClientCredentialUser>"+user+"</oauthClientCredentialUser>\n        <scopes>Api</scopes>\n    </oauthConfig>\n    <oauthPolicy>\n        <ipRelaxation>ENFORCE</ipRelaxation>\n        <refreshTokenPolicy>zero</refreshTokenPolicy>\n    </oauthPolicy>\n</ConnectedApp>\n")
			files++
		}
		writeFile(b, dir, d+"permissionsets/"+name+".permissionset-meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet "+ns+">\n    <label>"+name+"</label>\n    <objectPermissions>\n        <allowCreate>false</allowCreate>\n        <allowDelete>false</allowDelete>\n        <allowEdit>true</allowEdit>\n        <allowRead>true</allowRead>\n        <modifyAllRecords>false</modifyAllRecords>\n        <object>Account</object>\n        <viewAllRecords>false</viewAllRecords>\n    </objectPermissions>\n    <userPermissions>\n        <enabled>true</enabled>\n        <name>ApiEnabled</name>\n    </userPermissions>\n</PermissionSet>\n")
		files++
	}
	paths := []string{dir}
	b.ReportAllocs()
	for b.Loop() {
		set, err := Load(context.Background(), paths, Options{})
		if err != nil || set.Files != files {
			b.Fatalf("Load: %d files, %v", set.Files, err)
		}
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// writeBenchProject writes a project shaped like a retrieved org and returns
// the number of metadata files in it.
func writeBenchProject(b *testing.B, dir string, apps, permSets, profiles int) int {
	const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
	for i := range apps {
		writeFile(b, dir, fmt.Sprintf("force-app/main/default/connectedApps/App_%04d.connectedApp-meta.xml", i), fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp %s>
    <contactEmail>owner%d@example.com</contactEmail>
    <label>App %d</label>
    <oauthConfig>
        <callbackUrl>https://login.salesforce.com/services/oauth2/callback</callbackUrl>
        <consumerKey>3MVG9FAKE%076d</consumerKey>
        <isAdminApproved>true</isAdminApproved>
        <isClientCredentialEnabled>true</isClientCredentialEnabled>
        <isConsumerSecretOptional>false</isConsumerSecretOptional>
        <isIntrospectAllTokens>false</isIntrospectAllTokens>
        <oauthClientCredentialUser>integration%d@example.com</oauthClientCredentialUser>
        <scopes>Api</scopes>
        <scopes>RefreshToken</scopes>
    </oauthConfig>
    <oauthPolicy>
        <ipRelaxation>ENFORCE</ipRelaxation>
        <refreshTokenPolicy>infinite</refreshTokenPolicy>
    </oauthPolicy>
    <profileName>Minimum Access - API Only Integrations</profileName>
</ConnectedApp>
`, ns, i, i, i, i))
	}
	objects := func(n int) string {
		var s strings.Builder
		for j := range n {
			fmt.Fprintf(&s, `    <fieldPermissions>
        <editable>true</editable>
        <field>Object_%d__c.Field__c</field>
        <readable>true</readable>
    </fieldPermissions>
    <objectPermissions>
        <allowCreate>false</allowCreate>
        <allowDelete>false</allowDelete>
        <allowEdit>true</allowEdit>
        <allowRead>true</allowRead>
        <modifyAllRecords>false</modifyAllRecords>
        <object>Object_%d__c</object>
        <viewAllRecords>false</viewAllRecords>
    </objectPermissions>
    <userPermissions>
        <enabled>true</enabled>
        <name>Permission%d</name>
    </userPermissions>
`, j, j, j)
		}
		return s.String()
	}
	psBody := objects(10)
	for i := range permSets {
		writeFile(b, dir, fmt.Sprintf("force-app/main/default/permissionsets/PS_%04d.permissionset-meta.xml", i),
			fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet %s>\n    <label>PS %d</label>\n%s</PermissionSet>\n", ns, i, psBody))
	}
	profileBody := objects(2000) // about 1 MB, like a large retrieved profile
	for i := range profiles {
		writeFile(b, dir, filepath.Join("force-app", "main", "default", "profiles", fmt.Sprintf("Profile %d.profile-meta.xml", i)),
			fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Profile %s>\n    <custom>true</custom>\n    <userLicense>Salesforce</userLicense>\n%s</Profile>\n", ns, profileBody))
	}
	return apps + permSets + profiles
}
