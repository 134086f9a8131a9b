package sprawl

import (
	"bytes"
)

// Kind is the sort of credential material a detector found.
type Kind string

// Kinds of credential material.
const (
	KindConsumerKey    Kind = "consumer-key"       // an OAuth client_id (an identifier, not a secret)
	KindConsumerSecret Kind = "consumer-secret"    // an OAuth client_secret
	KindClientBundle   Kind = "client-credentials" // client_id:client_secret together
	KindAccessToken    Kind = "access-token"       // an opaque session ID/access token
	KindRefreshToken   Kind = "refresh-token"      // a refresh token
	KindAuthURL        Kind = "sfdx-auth-url"      // a force:// SFDX auth URL
)

// Confidence says how sure a detector is that a hit is a live credential of
// the kind it names.
type Confidence string

// Confidence levels.
const (
	High   Confidence = "high"
	Medium Confidence = "medium"
)

// Detector names, as findings carry them.
const (
	detConsumerKey      = "consumer-key"
	detConsumerSecret   = "consumer-secret"
	detSecretNearKey    = "consumer-secret-near-key"
	detMetadataSecret   = "metadata-consumer-secret"
	detCustomField      = "custom-field-secret"
	detAccessToken      = "access-token"
	detRefreshToken     = "refresh-token"
	detAuthURL          = "sfdx-auth-url"
	detBasicCredentials = "basic-auth-credentials"
)

// hit is one detection inside one buffer. The slices point into the buffer
// being scanned and are valid only while the hit is handled.
type hit struct {
	kind       Kind
	detector   string
	confidence Confidence
	start, end int    // span of the credential text in the buffer
	secret     []byte // the value the fingerprint is made of
	// candidates are the values compared with managed secrets; nil means
	// secret alone.
	candidates [][]byte
	// shown and suffix are how many leading and trailing bytes of the span
	// a redacted excerpt may show: a format prefix, a non-secret org ID or
	// host name, never the secret part.
	shown, suffix int
}

// Limits of the formats (reference §7): consumer keys are 80–256
// characters in practice (85 observed), access tokens carry an opaque part
// of 80–260 characters, secrets are 8–256 characters.
const (
	minKeyLen      = 80
	maxKeyLen      = 256
	minOpaqueLen   = 80
	maxOpaqueLen   = 260
	minSecretLen   = 8
	maxSecretLen   = 256
	orgIDLen       = 15
	contextLines   = 5    // lines either side searched for Salesforce context
	nearKeyLines   = 3    // lines either side of a key searched for its secret
	maxContextSpan = 1024 // bytes either side a context search may cover
)

var (
	anchorKey     = []byte("3MVG9")
	anchorRefresh = []byte("5Aep")
	anchorAuthURL = []byte("force://")
	anchorScheme  = []byte("://")
	anchorCretLo  = []byte("cret")
	anchorCretUp  = []byte("CRET")
)

// minTokenRun is the shortest run of token characters that can be a
// consumer key, a refresh token or the opaque part of an access token.
const minTokenRun = 80

// detect runs every plain-text detector over buf and calls emit for each
// hit, in no set order. Consumer keys, refresh tokens and access tokens
// are long runs of token characters, found by sampling (forEachRun); the
// other detectors start from a literal anchor whose rarest part is found
// with a vectorised search. Text holding none costs a fraction of a pass
// per detector.
func detect(buf []byte, emit func(hit)) {
	forEachRun(buf, clsKey, minTokenRun, func(s, _ int) {
		switch {
		case bytes.HasPrefix(buf[s:], anchorKey):
			detectKey(buf, s, emit)
		case bytes.HasPrefix(buf[s:], anchorRefresh):
			detectRefreshToken(buf, s, emit)
		case s > orgIDLen && buf[s-1] == '!':
			detectAccessToken(buf, s-orgIDLen-1, emit)
		}
	})
	forEach(buf, anchorScheme, func(i int) {
		if i >= 5 && bytes.Equal(buf[i-5:i], anchorAuthURL[:5]) {
			detectAuthURL(buf, i-5, emit)
		}
	})
	for _, a := range [][]byte{anchorCretLo, anchorCretUp} {
		forEach(buf, a, func(i int) {
			if i >= 2 && buf[i-1]|0x20 == 'e' && buf[i-2]|0x20 == 's' {
				detectSecretKeyword(buf, i-1, emit)
			}
		})
	}
}

// forEach calls fn with the offset of every occurrence of anchor in buf.
func forEach(buf, anchor []byte, fn func(int)) {
	for off := 0; ; {
		j := bytes.Index(buf[off:], anchor)
		if j < 0 {
			return
		}
		fn(off + j)
		off += j + 1
	}
}

// forEachRun calls fn with the bounds of every maximal run of cls
// characters in buf at least minLen long. Instead of classifying every
// byte it samples every minLen/2-th byte: a long enough run covers some
// sample p and the next one, p+minLen/2, entirely. So a sample is only
// followed when the next sample is in cls too, and only forward, until the
// run ends; in ordinary text, where such characters come in short words,
// that costs a small fraction of a pass.
func forEachRun(buf []byte, cls uint8, minLen int, fn func(s, e int)) {
	stride := minLen / 2
	next := 0
	for p := 0; p < len(buf); p += stride {
		if p < next || !is(buf[p], cls) {
			continue
		}
		q := p + stride
		if q < len(buf) && !is(buf[q], cls) {
			continue
		}
		e := runEnd(buf, p, cls, len(buf))
		next = e
		if e <= q && e < len(buf) {
			continue
		}
		s := p
		for s > 0 && is(buf[s-1], cls) {
			s--
		}
		if e-s >= minLen {
			fn(s, e)
		}
	}
}

// Byte classes.
const (
	clsAlnum  = 1 << iota // A-Z a-z 0-9
	clsKey                // consumer key and opaque token characters: alnum . _
	clsB64                // base64 characters of either alphabet: alnum + / - _
	clsHex                // 0-9 A-F a-f
	clsValue              // characters a secret value can continue with: alnum . _ - + / =
	clsHostCh             // host name characters: alnum . -
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		alnum := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
		if alnum {
			t[c] |= clsAlnum | clsKey | clsB64 | clsValue | clsHostCh
		}
		if b >= '0' && b <= '9' || b >= 'A' && b <= 'F' || b >= 'a' && b <= 'f' {
			t[c] |= clsHex
		}
		switch b {
		case '.':
			t[c] |= clsKey | clsValue | clsHostCh
		case '_':
			t[c] |= clsKey | clsB64 | clsValue
		case '-':
			t[c] |= clsB64 | clsValue | clsHostCh
		case '+', '/':
			t[c] |= clsB64 | clsValue
		case '=':
			t[c] |= clsValue
		}
	}
	return t
}()

func is(b byte, cls uint8) bool { return class[b]&cls != 0 }

// runEnd returns the end of the run of cls characters starting at i,
// reading at most max bytes.
func runEnd(buf []byte, i int, cls uint8, max int) int {
	limit := min(len(buf), i+max)
	for i < limit && is(buf[i], cls) {
		i++
	}
	return i
}

// detectKey reports the consumer key starting at i, the client_id:secret
// pair it may open, and secrets of the generated shapes near it.
func detectKey(buf []byte, i int, emit func(hit)) {
	if i > 0 && is(buf[i-1], clsKey) {
		return
	}
	end := runEnd(buf, i, clsKey, maxKeyLen+1)
	for end > i && buf[end-1] == '.' { // a full stop after the key
		end--
	}
	n := end - i
	if n < minKeyLen || n > maxKeyLen || (end < len(buf) && is(buf[end], clsKey)) {
		return
	}
	key := buf[i:end]
	if placeholder(key) { // 3MVG9EXAMPLE…, as documentation writes them
		return
	}
	// client_id:client_secret, as curl -u takes it and HTTP Basic
	// authentication encodes it.
	if end < len(buf) && buf[end] == ':' {
		s := end + 1
		e := runEnd(buf, s, clsAlnum, maxSecretLen+1)
		if l := e - s; l >= minSecretLen && l <= maxSecretLen && (e == len(buf) || !is(buf[e], clsValue)) && !placeholder(buf[s:e]) {
			emit(hit{
				kind: KindClientBundle, detector: detBasicCredentials, confidence: High,
				start: i, end: e, secret: buf[s:e], shown: 9,
			})
			return
		}
	}
	conf := Medium
	if n == 85 {
		conf = High
	}
	emit(hit{kind: KindConsumerKey, detector: detConsumerKey, confidence: conf, start: i, end: end, secret: key, shown: 9})
	detectNearKey(buf, i, emit)
}

// detectNearKey reports values of the generated secret shapes (64
// uppercase hex digits, or 19 decimal digits) within a few lines of the key
// at keyAt.
func detectNearKey(buf []byte, keyAt int, emit func(hit)) {
	lo, hi := lineWindow(buf, keyAt, nearKeyLines)
	for j := lo; j < hi; {
		if !is(buf[j], clsAlnum) {
			j++
			continue
		}
		e := runEnd(buf, j, clsAlnum, hi-j)
		if (j == 0 || !is(buf[j-1], clsValue)) && (e == len(buf) || !is(buf[e], clsValue)) && generatedSecretShape(buf[j:e], true) {
			conf := Medium
			if lineHasFold(buf, j, "secret") {
				conf = High
			}
			emit(hit{kind: KindConsumerSecret, detector: detSecretNearKey, confidence: conf, start: j, end: e, secret: buf[j:e]})
		}
		j = e
	}
}

// generatedSecretShape reports whether v has the shape of a secret
// Salesforce generates (reference §7.1, [S]): 64 hex digits (uppercase
// only when upperOnly) or 19 decimal digits.
func generatedSecretShape(v []byte, upperOnly bool) bool {
	switch len(v) {
	case 64:
		for _, c := range v {
			if !is(c, clsHex) || upperOnly && c >= 'a' {
				return false
			}
		}
		return !lowEntropy(v)
	case 19:
		for _, c := range v {
			if c < '0' || c > '9' {
				return false
			}
		}
		// Ten symbols only: a random 19-digit number has five or fewer
		// distinct digits about once in 300 draws, three or fewer about
		// once in 10^8.
		return distinct(v) >= 4
	}
	return false
}

// detectAccessToken reports an opaque access token (session ID): a 15
// character org ID starting 00D, "!", then the opaque part.
func detectAccessToken(buf []byte, i int, emit func(hit)) {
	if i < 0 || i > 0 && is(buf[i-1], clsAlnum) || !bytes.HasPrefix(buf[i:], []byte("00D")) {
		return
	}
	bang := i + orgIDLen
	if bang >= len(buf) || buf[bang] != '!' || runEnd(buf, i, clsAlnum, orgIDLen) != bang {
		return
	}
	end := runEnd(buf, bang+1, clsKey, maxOpaqueLen+1)
	if n := end - bang - 1; n < minOpaqueLen || n > maxOpaqueLen || (end < len(buf) && is(buf[end], clsValue)) {
		return
	}
	if placeholder(buf[bang+1 : end]) {
		return
	}
	emit(hit{kind: KindAccessToken, detector: detAccessToken, confidence: High, start: i, end: end, secret: buf[i:end], shown: orgIDLen + 1})
}

// detectRefreshToken reports a refresh token starting at i.
func detectRefreshToken(buf []byte, i int, emit func(hit)) {
	if i > 0 && is(buf[i-1], clsKey) {
		return
	}
	end := runEnd(buf, i, clsKey, 200)
	if !refreshTokenShape(buf[i:end]) || (end < len(buf) && is(buf[end], clsValue)) {
		return
	}
	conf := Medium
	if lineHasFold(buf, i, "refresh") {
		conf = High
	}
	emit(hit{kind: KindRefreshToken, detector: detRefreshToken, confidence: conf, start: i, end: end, secret: buf[i:end], shown: 4})
}

// refreshTokenShape reports whether v looks like a Salesforce refresh
// token: "5Aep" and about 87 characters of [A-Za-z0-9._] in all. The
// format is a common observation, not documented (reference §7.1, [U]);
// this is the one place that relies on it.
func refreshTokenShape(v []byte) bool {
	return len(v) >= 80 && len(v) <= 120 && bytes.HasPrefix(v, anchorRefresh) && !placeholder(v)
}

// detectAuthURL reports an SFDX auth URL,
// force://<clientId>:<clientSecret>:<refreshToken>@<instance>.
func detectAuthURL(buf []byte, i int, emit func(hit)) {
	s := i + len(anchorAuthURL)
	at := -1
	for j := s; j < len(buf) && j < s+2048; j++ {
		c := buf[j]
		if c == '@' {
			at = j
			break
		}
		if !is(c, clsValue) && c != ':' && c != '%' {
			return
		}
	}
	if at < 0 {
		return
	}
	host := runEnd(buf, at+1, clsHostCh, 255)
	if host-at-1 < 4 || bytes.IndexByte(buf[at+1:host], '.') < 0 {
		return
	}
	cred := buf[s:at]
	parts := bytes.Split(cred, []byte(":"))
	token := parts[len(parts)-1]
	if len(token) < 20 || placeholder(cred) {
		return
	}
	secret := cred
	var candidates [][]byte
	if len(parts) >= 2 { // clientId:clientSecret:refreshToken, or clientId:refreshToken
		secret = cred[len(parts[0])+1:]
		for _, p := range parts[1:] {
			if len(p) >= minSecretLen {
				candidates = append(candidates, p)
			}
		}
	}
	emit(hit{
		kind: KindAuthURL, detector: detAuthURL, confidence: High, start: i, end: host,
		secret: secret, candidates: candidates, shown: len(anchorAuthURL), suffix: host - at,
	})
}

// detectSecretKeyword handles "ecret" (any case) at i: a consumer or client
// secret assigned in code or configuration, a consumerSecret element in
// connected-app or External Client App metadata, or a secret stored in a
// custom field or custom metadata record.
func detectSecretKeyword(buf []byte, i int, emit func(hit)) {
	if i == 0 || buf[i-1]|0x20 != 's' {
		return
	}
	// The name around the keyword: identifier characters and separators.
	ns := i - 1
	for ns > 0 && i-ns < 64 && isNameChar(buf[ns-1]) {
		ns--
	}
	ne := i + len("ecret")
	for ne < len(buf) && ne-ns < 96 && isNameChar(buf[ne]) {
		ne++
	}
	name := lowerASCII(buf[ns:ne])
	switch {
	case bytes.HasSuffix(name, []byte("__c")):
		detectCustomField(buf, ns, ne, emit)
		return
	case ns > 0 && buf[ns-1] == '<' && bytes.Equal(name, []byte("consumersecret")):
		detectMetadataSecret(buf, ne, emit)
		return
	}
	consumer := bytes.Contains(name, []byte("consumer"))
	if !consumer && !bytes.Contains(name, []byte("client")) {
		return
	}
	// Skip the assignment between the name and the value: quotes, colons,
	// equals signs, arrows, spaces.
	vs := ne
	for vs < len(buf) && vs-ne < 8 && isAssignChar(buf[vs]) {
		vs++
	}
	if vs == ne || vs >= len(buf) {
		return
	}
	ve := runEnd(buf, vs, clsAlnum, maxSecretLen+1)
	v := buf[vs:ve]
	if len(v) < minSecretLen || len(v) > maxSecretLen || (ve < len(buf) && is(buf[ve], clsValue)) || placeholder(v) {
		return
	}
	sfName := bytes.HasPrefix(name, []byte("sf")) || bytes.Contains(name, []byte("salesforce"))
	switch {
	case generatedSecretShape(v, false) && (consumer || sfName || salesforceContext(buf, i)):
		emit(hit{kind: KindConsumerSecret, detector: detConsumerSecret, confidence: High, start: vs, end: ve, secret: v})
	case customSecretShape(v) && (sfName || salesforceContext(buf, i)):
		emit(hit{kind: KindConsumerSecret, detector: detConsumerSecret, confidence: Medium, start: vs, end: ve, secret: v})
	}
}

// detectMetadataSecret reports the value of a <consumerSecret> element
// whose start tag ends at the '>' at or after ne. Salesforce never returns
// the element on retrieve, so a value in a file was put there by hand.
func detectMetadataSecret(buf []byte, ne int, emit func(hit)) {
	if ne >= len(buf) || buf[ne] != '>' {
		return
	}
	vs := ne + 1
	closeAt := bytes.Index(buf[vs:min(len(buf), vs+maxSecretLen+32)], []byte("</"))
	if closeAt < 0 {
		return
	}
	v := bytes.TrimSpace(buf[vs : vs+closeAt])
	if len(v) < minSecretLen || len(v) > maxSecretLen || placeholder(v) || !allClass(v, clsAlnum) {
		return
	}
	start := vs + bytes.Index(buf[vs:], v)
	emit(hit{kind: KindConsumerSecret, detector: detMetadataSecret, confidence: High, start: start, end: start + len(v), secret: v})
}

// detectCustomField reports a secret stored in a custom field whose API
// name (buf[ns:ne]) holds "secret": the field's default value in its
// .field-meta.xml (<fullName>Consumer_Secret__c</fullName> … <defaultValue>),
// or the field's value in a custom metadata record (<field>…</field>
// <value>…</value>).
func detectCustomField(buf []byte, ns, ne int, emit func(hit)) {
	var open string
	var stops []string
	switch {
	case bytes.HasSuffix(buf[:ns], []byte("<fullName>")):
		open, stops = "<defaultValue>", []string{"</CustomField>", "</fields>"}
	case bytes.HasSuffix(buf[:ns], []byte("<field>")):
		open, stops = "<value", []string{"</values>"}
	default:
		return
	}
	area := buf[ne:min(len(buf), ne+4096)]
	for _, stop := range stops {
		if k := bytes.Index(area, []byte(stop)); k >= 0 {
			area = area[:k]
		}
	}
	k := bytes.Index(area, []byte(open))
	if k < 0 {
		return
	}
	vs := ne + k + len(open)
	gt := bytes.IndexByte(buf[vs:min(len(buf), vs+128)], '>')
	if open == "<value" {
		if gt < 0 {
			return
		}
		vs += gt + 1
	}
	closeAt := bytes.Index(buf[vs:min(len(buf), vs+maxSecretLen+32)], []byte("</"))
	if closeAt < 0 {
		return
	}
	v := bytes.TrimSpace(buf[vs : vs+closeAt])
	// Default values are formulas: text literals are quoted.
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	} else if bytes.HasPrefix(v, []byte("&quot;")) && bytes.HasSuffix(v, []byte("&quot;")) && len(v) >= 12 {
		v = v[6 : len(v)-6]
	}
	if len(v) < minSecretLen || len(v) > maxSecretLen || placeholder(v) || !allClass(v, clsAlnum) {
		return
	}
	conf := Medium
	if generatedSecretShape(v, false) {
		conf = High
	} else if !customSecretShape(v) {
		return
	}
	start := vs + bytes.Index(buf[vs:], v)
	emit(hit{kind: KindConsumerSecret, detector: detCustomField, confidence: conf, start: start, end: start + len(v), secret: v})
}

func isNameChar(c byte) bool { return is(c, clsAlnum) || c == '_' || c == '-' || c == '.' }

func isAssignChar(c byte) bool {
	switch c {
	case ' ', '\t', '"', '\'', '`', ':', '=', '>':
		return true
	}
	return false
}

func allClass(v []byte, cls uint8) bool {
	for _, c := range v {
		if !is(c, cls) {
			return false
		}
	}
	return true
}

// customSecretShape reports whether an alphanumeric value looks like a
// chosen secret rather than a word: mixed letters and digits, and not
// dominated by one character.
func customSecretShape(v []byte) bool {
	var letters, digits int
	for _, c := range v {
		if c >= '0' && c <= '9' {
			digits++
		} else {
			letters++
		}
	}
	return letters > 0 && digits > 0 && len(v) >= 12 && !lowEntropy(v)
}

// lowEntropy reports values made of very few distinct characters, such as
// 0000… or ABABAB…, which are fillers rather than secrets.
func lowEntropy(v []byte) bool { return distinct(v) < 6 }

// distinct counts the distinct bytes of v.
func distinct(v []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range v {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}

// placeholders mark a value as an example or template. They are long
// enough (or made of characters random tokens lack) that a random token
// holds one by chance with negligible probability.
var placeholders = [][]byte{
	[]byte("example"), []byte("replace"), []byte("placeholder"), []byte("changeme"), []byte("redacted"),
	[]byte("dummy"), []byte("your_"), []byte("your-"), []byte("secret"), []byte("xxxxxx"),
	[]byte("..."), []byte("${"), []byte("{{"), []byte("<"), []byte("******"),
}

// placeholder reports whether v is a template value rather than a
// credential.
func placeholder(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	var scratch [320]byte
	lv := scratch[:0]
	if len(v) <= len(scratch) {
		for _, c := range v {
			lv = append(lv, lower(c))
		}
	} else {
		lv = lowerASCII(v)
	}
	for _, p := range placeholders {
		if bytes.Contains(lv, p) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func lowerASCII(v []byte) []byte {
	out := make([]byte, len(v))
	for i, c := range v {
		out[i] = lower(c)
	}
	return out
}

// lineWindow returns the bounds of the n lines either side of the line
// holding i, limited to maxContextSpan bytes either side of i.
func lineWindow(buf []byte, i, n int) (lo, hi int) {
	floor := max(0, i-maxContextSpan)
	lo = i
	for k := 0; k <= n; k++ {
		j := bytes.LastIndexByte(buf[floor:lo], '\n')
		if j < 0 {
			lo = floor
			break
		}
		if k == n {
			lo = floor + j + 1
			break
		}
		lo = floor + j
	}
	ceil := min(len(buf), i+maxContextSpan)
	hi = min(i, ceil)
	for k := 0; k <= n; k++ {
		j := bytes.IndexByte(buf[hi:ceil], '\n')
		if j < 0 {
			hi = ceil
			break
		}
		hi += j + 1
	}
	return lo, hi
}

// lineHasFold reports whether the line holding i contains word (given in
// lower case), in any case.
func lineHasFold(buf []byte, i int, word string) bool {
	lo, hi := lineWindow(buf, i, 0)
	return containsFold(buf[lo:hi], word)
}

// salesforceContext reports whether the lines around i mention
// Salesforce: its name, a Salesforce domain, or a consumer key.
func salesforceContext(buf []byte, i int) bool {
	lo, hi := lineWindow(buf, i, contextLines)
	w := buf[lo:hi]
	return bytes.Contains(w, anchorKey) || containsFold(w, "salesforce") || containsFold(w, "force.com") || containsFold(w, "sfdc")
}

// containsFold reports whether b contains word (lower case) in any ASCII
// case.
func containsFold(b []byte, word string) bool {
	for i := 0; i+len(word) <= len(b); i++ {
		if lower(b[i]) != word[0] {
			continue
		}
		k := 1
		for k < len(word) && lower(b[i+k]) == word[k] {
			k++
		}
		if k == len(word) {
			return true
		}
	}
	return false
}
