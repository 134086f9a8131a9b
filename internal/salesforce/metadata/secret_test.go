package metadata

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// dump renders a value every way a caller might print or serialise it; for
// an ECA it also prints each part, which %+v shows only as pointers.
func dump(v any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n%#v\n", v, v)
	if j, err := json.Marshal(v); err == nil {
		b.Write(j)
	}
	if e, ok := v.(*ECA); ok && e != nil {
		for _, part := range []any{e.Header, e.OAuth, e.GlobalOAuth, e.OAuthPolicy, e.PluginPolicy} {
			fmt.Fprintf(&b, "\n%+v", part)
		}
	}
	return b.String()
}

func TestSecretNeverInOutput(t *testing.T) {
	const secret = "S3cr3tValueDoNotLeak42"
	const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
	app := func(oauth string) string {
		return "<?xml version=\"1.0\"?>\n<ConnectedApp " + ns + ">\n<label>L</label>\n<oauthConfig>\n" + oauth
	}
	tests := []struct {
		name    string
		path    string
		doc     string
		wantErr bool
		present bool // ConsumerSecretPresent expected on success
		// echoed: the value also stands in a field that is kept (a scope).
		// That copy is the file's own content and stays in the record;
		// messages are still scrubbed.
		echoed bool
	}{
		{
			name:    "well-formed connected app",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret>\n</oauthConfig>\n</ConnectedApp>\n"),
			present: true,
		},
		{
			name:    "well-formed ECA global OAuth settings",
			path:    "A.ecaGlblOauth-meta.xml",
			doc:     "<ExtlClntAppGlobalOauthSettings " + ns + ">\n<externalClientApplication>A</externalClientApplication>\n<consumerSecret>\n  " + secret + "\n</consumerSecret>\n</ExtlClntAppGlobalOauthSettings>",
			present: true,
		},
		{
			name:    "malformed right after the secret",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret><oops"),
			wantErr: true,
		},
		{
			name:    "wrong end tag after the secret",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret>\n</oauthConfig>\n</Wrong>\n"),
			wantErr: true,
		},
		{
			name:    "end tag named like the secret",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret>\n</" + secret + ">\n"),
			wantErr: true,
		},
		{
			name:    "element named like the secret after the root",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret>\n</oauthConfig>\n</ConnectedApp>\n<" + secret + "/>\n"),
			wantErr: true,
		},
		{
			name:    "file ends inside the secret",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret),
			wantErr: true,
		},
		{
			name:    "secret written as an undefined entity",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>&" + secret + ";</consumerSecret>\n</oauthConfig>\n</ConnectedApp>\n"),
			wantErr: true,
		},
		{
			name:    "invalid UTF-8 after the secret",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret>\n<scopes>\xff</scopes>\n</oauthConfig>\n</ConnectedApp>\n"),
			wantErr: true,
		},
		{
			name:    "wrong root element holding a secret",
			path:    "A.profile-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret>\n</oauthConfig>\n</ConnectedApp>\n"),
			wantErr: true,
		},
		{
			name:    "secret repeated where values are echoed",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>" + secret + "</consumerSecret>\n<scopes>" + secret + "</scopes>\n<isAdminApproved>" + secret + "</isAdminApproved>\n<" + secret + "/>\n</oauthConfig>\n</ConnectedApp>\n"),
			present: true,
			echoed:  true,
		},
		{
			name:    "duplicate secret element",
			path:    "A.connectedApp-meta.xml",
			doc:     app("<consumerSecret>first-secret-value</consumerSecret>\n<consumerSecret>" + secret + "</consumerSecret>\n</oauthConfig>\n</ConnectedApp>\n"),
			present: true,
		},
		{
			name: "secret in an unexpected place",
			path: "A.connectedApp-meta.xml",
			doc:  "<ConnectedApp " + ns + ">\n<consumerSecret>" + secret + "</consumerSecret>\n<label><consumerSecret>" + secret + "</consumerSecret></label>\n</ConnectedApp>\n",
		},
		{
			name: "certificate with child elements",
			path: "A.connectedApp-meta.xml",
			doc:  app("<certificate>" + secret + "<x/></certificate>\n</oauthConfig>\n</ConnectedApp>\n"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(what, s string) {
				t.Helper()
				if strings.Contains(s, secret) || strings.Contains(s, "first-secret-value") {
					t.Errorf("%s holds the secret:\n%s", what, s)
				}
			}
			rec, warnings, err := Parse(tt.path, []byte(tt.doc))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.echoed {
				check("record", dump(rec))
			}
			for _, w := range warnings {
				check("warning", w.String())
			}
			if err != nil {
				check("error", err.Error())
				check("error", fmt.Sprintf("%+v %#v", err, err))
			}
			if tt.echoed && (len(warnings) != 3 || !strings.Contains(warnings[0].Message, redacted)) {
				t.Errorf("want three warnings with the value redacted, got %v", warnings)
			}
			if a, ok := rec.(*ConnectedApp); ok && a.ConsumerSecretPresent != tt.present {
				t.Errorf("ConsumerSecretPresent = %v, want %v", a.ConsumerSecretPresent, tt.present)
			}
			if e, ok := rec.(*ECA); ok && (e.GlobalOAuth == nil || e.GlobalOAuth.ConsumerSecretPresent != tt.present || e.GlobalOAuth.ConsumerSecretLine != 3) {
				t.Errorf("global OAuth = %+v", e.GlobalOAuth)
			}

			// The same through Load, with a good file beside it.
			dir := t.TempDir()
			writeFile(t, dir, "Good.connectedApp-meta.xml", goodApp)
			writeFile(t, dir, filepath.Join("x", tt.path), tt.doc)
			set, err := Load(context.Background(), []string{dir}, Options{})
			if !tt.echoed {
				check("set", dump(set))
				for _, a := range set.ConnectedApps {
					check("connected app", dump(a))
				}
				for _, e := range set.ECAs {
					check("ECA", dump(e))
				}
			}
			for _, w := range set.Warnings {
				check("warning", w.String())
			}
			if err != nil {
				check("Load error", err.Error())
			}
		})
	}
}
