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
