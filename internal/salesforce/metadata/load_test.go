package metadata

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goodApp is a small valid connected app; every bad-input test loads it
// beside the bad file to show the bad file does not stop the others.
const goodApp = `<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>owner@example.com</contactEmail>
    <label>Good</label>
</ConnectedApp>
`

// writeFile writes content to dir/rel, creating directories, and returns the
// path.
func writeFile(t testing.TB, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fileErrors extracts the FileErrors from Load's error, failing the test
// when err is not an Errors.
func fileErrors(t *testing.T, err error) Errors {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not an Errors", err, err)
	}
	return errs
}

// assertOneFileError checks that err holds exactly one FileError, for file
// at line, whose message names file:line and contains want.
func assertOneFileError(t *testing.T, err error, file string, line int, want string) *FileError {
	t.Helper()
	errs := fileErrors(t, err)
	if len(errs) != 1 {
		t.Fatalf("got %d file errors, want 1: %v", len(errs), err)
	}
	fe := errs[0]
	if fe.File != file || fe.Line != line {
		t.Errorf("error at %s:%d, want %s:%d (%v)", fe.File, fe.Line, file, line, fe)
	}
	prefix := file + ": "
	if line > 0 {
		prefix = file + ":" + strconv.Itoa(line) + ": "
	}
	if msg := fe.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, want) {
		t.Errorf("error %q: want prefix %q and %q in it", msg, prefix, want)
	}
	return fe
}

func TestLoadBadInput(t *testing.T) {
	const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
	billionLaughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ConnectedApp ` + ns + `><label>&lol9;</label></ConnectedApp>
`
	tests := []struct {
		name     string
		file     string
		content  string
		line     int
		want     string
		sentinel error
	}{
		{
			name:     "mismatched end tag",
			file:     "Bad.connectedApp-meta.xml",
			content:  "<?xml version=\"1.0\"?>\n<ConnectedApp " + ns + ">\n    <label>x</labl>\n</ConnectedApp>\n",
			line:     3,
			want:     "malformed XML: element <label> closed by </labl>",
			sentinel: ErrMalformed,
		},
		{
			name:     "truncated document",
			file:     "Bad.permissionset-meta.xml",
			content:  "<PermissionSet " + ns + ">\n    <label>x</label>\n",
			line:     3,
			want:     "malformed XML: unexpected EOF",
			sentinel: ErrMalformed,
		},
		{
			name:     "billion laughs",
			file:     "Bad.connectedApp-meta.xml",
			content:  billionLaughs,
			line:     2,
			want:     "DTDs and entities are not allowed",
			sentinel: ErrDTD,
		},
		{
			name: "external entity",
			file: "Bad.profile-meta.xml",
			content: "<?xml version=\"1.0\"?>\n<!DOCTYPE Profile [\n  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n" +
				"<Profile " + ns + "><description>&xxe;</description></Profile>\n",
			line:     2,
			want:     "DTDs and entities are not allowed",
			sentinel: ErrDTD,
		},
		{
			name:     "entity declaration outside a DOCTYPE",
			file:     "Bad.profile-meta.xml",
			content:  "<!ENTITY x \"y\">\n<Profile " + ns + "/>\n",
			line:     1,
			want:     "DTDs and entities are not allowed",
			sentinel: ErrDTD,
		},
		{
			name:     "undefined entity",
			file:     "Bad.connectedApp-meta.xml",
			content:  "<?xml version=\"1.0\"?>\n<ConnectedApp " + ns + ">\n\n    <label>a &nope; b</label>\n</ConnectedApp>\n",
			line:     4,
			want:     "invalid character entity &nope;",
			sentinel: ErrMalformed,
		},
		{
			name:     "invalid UTF-8",
			file:     "Bad.permissionset-meta.xml",
			content:  "<?xml version=\"1.0\"?>\n<PermissionSet " + ns + ">\n    <label>caf\xe9</label>\n</PermissionSet>\n",
			line:     3,
			want:     "invalid UTF-8 at byte offset",
			sentinel: ErrInvalidUTF8,
		},
		{
			name:     "wrong root element",
			file:     "Bad.connectedApp-meta.xml",
			content:  "<?xml version=\"1.0\"?>\n<Profile " + ns + ">\n</Profile>\n",
			line:     2,
			want:     "wrong root element: <Profile>, expected <ConnectedApp>",
			sentinel: ErrWrongRoot,
		},
		{
			name:     "empty file",
			file:     "Bad.eca-meta.xml",
			content:  "",
			line:     1,
			want:     "no root element",
			sentinel: ErrMalformed,
		},
		{
			name:     "second root element",
			file:     "Bad.ecaOauth-meta.xml",
			content:  "<ExtlClntAppOauthSettings " + ns + "/>\n<ExtlClntAppOauthSettings " + ns + "/>\n",
			line:     2,
			want:     "element <ExtlClntAppOauthSettings> after the root element",
			sentinel: ErrMalformed,
		},
		{
			name:     "text after the root element",
			file:     "Bad.ecaPlcy-meta.xml",
			content:  "<ExtlClntAppConfigurablePolicies " + ns + "/>\nstray\n",
			line:     1,
			want:     "text outside the root element",
			sentinel: ErrMalformed,
		},
		{
			name:     "deep nesting",
			file:     "Bad.profile-meta.xml",
			content:  "<Profile " + ns + ">\n" + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + "</Profile>\n",
			line:     2,
			want:     "elements nested more than 64 deep",
			sentinel: ErrTooComplex,
		},
		{
			name:     "non-UTF-8 encoding declared",
			file:     "Bad.profile-meta.xml",
			content:  "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Profile " + ns + "/>\n",
			line:     1,
			want:     "unsupported XML declaration",
			sentinel: ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "connectedApps/Good.connectedApp-meta.xml", goodApp)
			bad := writeFile(t, dir, "odd-folder/"+tt.file, tt.content)

			start := time.Now()
			set, err := Load(context.Background(), []string{dir}, Options{})
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Load took %v", d)
			}
			fe := assertOneFileError(t, err, bad, tt.line, tt.want)
			if !errors.Is(err, tt.sentinel) || !errors.Is(fe, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			if set == nil || set.Files != 1 || len(set.ConnectedApps) != 1 || set.ConnectedApps[0].Name != "Good" {
				t.Errorf("the good file did not load beside the bad one: %+v", set)
			}
		})
	}
}

func TestLoadOversizedFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Good.connectedApp-meta.xml", goodApp)
	big := filepath.Join(dir, "Huge.profile-meta.xml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 50 MiB file: cheap to make, and Load must refuse it before
	// reading past its first block.
	if err := f.Truncate(50 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	set, err := Load(context.Background(), []string{dir}, Options{})
	assertOneFileError(t, err, big, 0, "file is 52428800 bytes, over the 10 MiB limit")
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("errors.Is(err, ErrTooLarge) = false")
	}
	if set.Files != 1 {
		t.Errorf("Files = %d, want 1", set.Files)
	}

	// A lower limit applies to ordinary files too.
	_, err = Load(context.Background(), []string{filepath.Join(dir, "Good.connectedApp-meta.xml")}, Options{MaxFileSize: 64})
	assertOneFileError(t, err, filepath.Join(dir, "Good.connectedApp-meta.xml"), 0,
		"file is "+strconv.Itoa(len(goodApp))+" bytes, over the 64 bytes limit")
}

// growingReader produces more bytes than the size its file reported.
type growingReader struct{ left int }

func (r *growingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	r.left -= n
	return n, nil
}

func TestReadLimited(t *testing.T) {
	// The file said it was 10 bytes but grows to 5000 while being read.
	_, err := readLimited(&growingReader{left: 5000}, 10, 1024)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "file is over the 1 KiB limit") {
		t.Errorf("err = %v, want the over-limit error", err)
	}
	data, err := readLimited(&growingReader{left: 1024}, 10, 1024)
	if err != nil || len(data) != 1024 {
		t.Errorf("exactly at the limit: %d bytes, %v", len(data), err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Good.connectedApp-meta.xml", goodApp)
	dangling := filepath.Join(dir, "Dangling.permissionset-meta.xml")
	if err := os.Symlink(filepath.Join(dir, "missing"), dangling); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	set, err := Load(context.Background(), []string{dir}, Options{})
	assertOneFileError(t, err, dangling, 0, "cannot read: no such file or directory")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false")
	}
	if set.Files != 1 {
		t.Errorf("Files = %d, want 1", set.Files)
	}
}

func TestLoadPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read a mode-000 file")
	}
	dir := t.TempDir()
	writeFile(t, dir, "Good.connectedApp-meta.xml", goodApp)
	locked := writeFile(t, dir, "Locked.profile-meta.xml", "<Profile/>")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	set, err := Load(context.Background(), []string{dir}, Options{})
	assertOneFileError(t, err, locked, 0, "cannot read: permission denied")
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(err, fs.ErrPermission) = false")
	}
	if set.Files != 1 {
		t.Errorf("Files = %d, want 1", set.Files)
	}
}

func TestLoadNotAFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Good.connectedApp-meta.xml", goodApp)
	// A directory named like a metadata file is reported (and still searched).
	fake := filepath.Join(dir, "Fake.profile-meta.xml")
	writeFile(t, fake, "Inner.permissionset-meta.xml", "<PermissionSet xmlns=\"http://soap.sforce.com/2006/04/metadata\"><label>x</label></PermissionSet>")
	set, err := Load(context.Background(), []string{dir}, Options{})
	assertOneFileError(t, err, fake, 0, "is a directory, not a metadata file")
	if set.Files != 2 || len(set.PermissionSets) != 1 {
		t.Errorf("Files = %d, permission sets = %d; want 2 and 1", set.Files, len(set.PermissionSets))
	}

	// A device behind a metadata name is refused without reading it.
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skip("no null device")
	}
	dev := filepath.Join(t.TempDir(), "Dev.profile-meta.xml")
	if err := os.Symlink(os.DevNull, dev); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	_, err = Load(context.Background(), []string{dev}, Options{})
	assertOneFileError(t, err, dev, 0, "not a regular file")
}

func TestLoadMissingPath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Good.connectedApp-meta.xml", goodApp)
	missing := filepath.Join(dir, "no-such-dir")
	set, err := Load(context.Background(), []string{missing, dir}, Options{})
	assertOneFileError(t, err, missing, 0, "cannot read: no such file or directory")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false")
	}
	if set.Files != 1 {
		t.Errorf("Files = %d, want 1", set.Files)
	}
}

func TestLoadNoMetadata(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "README.md", "# nothing here")
	writeFile(t, dir, "force-app/main/default/classes/Foo.cls-meta.xml", "<ApexClass/>")
	writeFile(t, dir, ".profile", "export PATH=/bin") // a shell file, not a profile
	set, err := Load(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(set, &Set{}) {
		t.Errorf("set = %+v, want empty", set)
	}
}

func TestLoadSkipsToolDirectories(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "force-app/Good.connectedApp-meta.xml", goodApp)
	for _, skip := range []string{".git", "node_modules", ".sfdx", ".sf", "force-app/node_modules"} {
		writeFile(t, dir, skip+"/Copy.connectedApp-meta.xml", "not even XML")
	}
	set, err := Load(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if set.Files != 1 {
		t.Errorf("Files = %d, want 1", set.Files)
	}
	// Named explicitly, a skipped directory is searched.
	_, err = Load(context.Background(), []string{filepath.Join(dir, ".sfdx")}, Options{})
	if len(fileErrors(t, err)) != 1 {
		t.Errorf("explicit .sfdx: err = %v, want one file error", err)
	}
}

func TestLoadPathsOverlapAndOrder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/One.connectedApp-meta.xml", strings.Replace(goodApp, "Good", "One", 1))
	writeFile(t, dir, "a/b/Two.connectedApp-meta.xml", strings.Replace(goodApp, "Good", "Two", 1))
	file := writeFile(t, dir, "c/Three.permissionset-meta.xml", `<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata"><label>3</label></PermissionSet>`)
	writeFile(t, dir, "c/notes.txt", "ignored")

	want, err := Load(context.Background(), []string{filepath.Join(dir, "a"), file}, Options{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want.Files != 3 {
		t.Fatalf("Files = %d, want 3", want.Files)
	}
	// Overlapping paths, other spellings and other orders read each file
	// once and give the same Set, whatever the concurrency.
	for _, paths := range [][]string{
		{file, filepath.Join(dir, "a", "b"), filepath.Join(dir, "a") + string(filepath.Separator)},
		{filepath.Join(dir, "a", "..", "a"), filepath.Join(dir, "c", "Three.permissionset-meta.xml"), filepath.Join(dir, "c", "notes.txt")},
	} {
		for _, workers := range []int{1, 3, 16} {
			got, err := Load(context.Background(), paths, Options{Concurrency: workers})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("paths %v, %d workers: set differs\ngot  %+v\nwant %+v", paths, workers, got, want)
			}
		}
	}
}

func TestLoadSymlinkedRoot(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "real/Good.connectedApp-meta.xml", goodApp)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "real"), link); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	set, err := Load(context.Background(), []string{link}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.ConnectedApps) != 1 || set.ConnectedApps[0].File != filepath.Join(link, "Good.connectedApp-meta.xml") {
		t.Errorf("apps = %+v, want Good under the link", set.ConnectedApps)
	}
}

func TestLoadCancelled(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "Good.connectedApp-meta.xml", goodApp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	set, err := Load(ctx, []string{dir}, Options{})
	if set != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Load = %v, %v; want nil, context.Canceled", set, err)
	}
}

func TestLoadAssemblesECAs(t *testing.T) {
	const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
	dir := t.TempDir()
	writeFile(t, dir, "z/Billing.eca-meta.xml", "<ExternalClientApplication "+ns+"><label>Billing</label></ExternalClientApplication>")
	writeFile(t, dir, "y/Billing_plcy.ecaOauthPlcy-meta.xml", "<ExtlClntAppOauthConfigurablePolicies "+ns+">\n<externalClientApplication>Billing</externalClientApplication>\n<clientCredentialsFlowUser>first@example.com</clientCredentialsFlowUser>\n</ExtlClntAppOauthConfigurablePolicies>")
	dup := writeFile(t, dir, "y/Billing_plcy2.ecaOauthPlcy-meta.xml", "<ExtlClntAppOauthConfigurablePolicies "+ns+">\n<externalClientApplication>Billing</externalClientApplication>\n<clientCredentialsFlowUser>second@example.com</clientCredentialsFlowUser>\n</ExtlClntAppOauthConfigurablePolicies>")
	orphan := writeFile(t, dir, "x/Orphan.ecaGlblOauth-meta.xml", "<ExtlClntAppGlobalOauthSettings "+ns+">\n<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>\n</ExtlClntAppGlobalOauthSettings>")
	writeFile(t, dir, "x/Alpha_plugin.ecaPlcy-meta.xml", "<ExtlClntAppConfigurablePolicies "+ns+"><externalClientApplication>Alpha</externalClientApplication><isEnabled>false</isEnabled></ExtlClntAppConfigurablePolicies>")

	set, err := Load(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range set.ECAs {
		names = append(names, e.Name)
	}
	if want := []string{"Alpha", "Billing", "Orphan"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ECA names = %v, want %v", names, want)
	}
	alpha, billing, orphanApp := set.ECAs[0], set.ECAs[1], set.ECAs[2]
	if alpha.PluginPolicy == nil || !alpha.PluginPolicy.Enabled.Set || alpha.PluginPolicy.Enabled.Value || alpha.Header != nil {
		t.Errorf("Alpha = %+v", alpha)
	}
	if billing.Header == nil || billing.Header.Label.Value != "Billing" || billing.OAuthPolicy == nil {
		t.Fatalf("Billing = %+v", billing)
	}
	if got := billing.OAuthPolicy.ClientCredentialsUser.Value; got != "first@example.com" {
		t.Errorf("run-as = %q, want the first file's", got)
	}
	if orphanApp.GlobalOAuth == nil || !orphanApp.GlobalOAuth.ClientCredentialsEnabled.True() || orphanApp.GlobalOAuth.App != "" {
		t.Errorf("Orphan = %+v", orphanApp)
	}
	wantWarnings := []Warning{
		{Location{orphan, 1}, `<ExtlClntAppGlobalOauthSettings> has no <externalClientApplication>; grouped under the file name "Orphan"`},
		{Location{dup, 1}, "duplicate ExtlClntAppOauthConfigurablePolicies for External Client App \"Billing\"; the one at " +
			filepath.Join(dir, "y", "Billing_plcy.ecaOauthPlcy-meta.xml") + ":1 is used"},
	}
	if !reflect.DeepEqual(set.Warnings, wantWarnings) {
		t.Errorf("warnings:\n%v\nwant\n%v", set.Warnings, wantWarnings)
	}
}

func TestErrorsFormatting(t *testing.T) {
	inner := errors.New("boom")
	errs := Errors{
		{File: "a.profile-meta.xml", Line: 3, Err: inner},
		{File: "b.profile-meta.xml", Err: fs.ErrNotExist},
	}
	var err error = errs
	if got, want := err.Error(), "a.profile-meta.xml:3: boom\nb.profile-meta.xml: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var fe *FileError
	if !errors.As(err, &fe) || fe != errs[0] {
		t.Errorf("errors.As did not find the first FileError")
	}
	if !errors.Is(err, inner) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is does not see the causes")
	}
	if got := (&FileError{File: "x"}).Error(); got != "x: unknown error" {
		t.Errorf("nil Err: %q", got)
	}
	if got := (Warning{Location{"f", 0}, "m"}).String(); got != "f: m" {
		t.Errorf("Warning.String() = %q", got)
	}
}
