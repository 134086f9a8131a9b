package report

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func renderHTML(t *testing.T, in ComplianceInput) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCompliance(&buf, "html", assess(t, in)); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// walk calls fn on every element under n, in document order.
func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func text(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

// TestComplianceHTMLStructure parses the page and checks what makes it
// accessible, self-contained and printable: a language, one h1 and no
// skipped heading level, a caption and header cells on every table, every
// in-page link resolving, one section per control and per identity card,
// nothing loaded from elsewhere, and print rules that start each card on a
// new page.
func TestComplianceHTMLStructure(t *testing.T) {
	src, doc := renderHTML(t, testCompliance())
	if !strings.HasPrefix(src, "<!DOCTYPE html>") {
		t.Error("no doctype")
	}
	ids := map[string]bool{}
	var (
		h1s, lastLevel        int
		links                 []string
		cards, controls       int
		styles                []string
		htmlLang, metaCharset bool
	)
	walk(doc, func(n *html.Node) {
		if id := attr(n, "id"); id != "" {
			if ids[id] {
				t.Errorf("id %q is used twice", id)
			}
			ids[id] = true
		}
		switch n.DataAtom {
		case atom.Html:
			htmlLang = attr(n, "lang") == "en"
		case atom.Meta:
			metaCharset = metaCharset || attr(n, "charset") == "utf-8"
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			level, _ := strconv.Atoi(n.Data[1:])
			if level == 1 {
				h1s++
			}
			if lastLevel > 0 && level > lastLevel+1 {
				t.Errorf("heading %q skips from h%d to h%d", text(n), lastLevel, level)
			}
			lastLevel = level
		case atom.Table:
			var caption, th bool
			walk(n, func(c *html.Node) {
				caption = caption || c.DataAtom == atom.Caption
				if c.DataAtom == atom.Th {
					th = true
					if s := attr(c, "scope"); s != "col" && s != "row" {
						t.Errorf("header cell %q has scope %q", text(c), s)
					}
				}
			})
			if !caption || !th {
				t.Errorf("a table lacks a caption (%v) or header cells (%v)", caption, th)
			}
		case atom.A:
			if href := attr(n, "href"); strings.HasPrefix(href, "#") {
				links = append(links, href[1:])
			}
		case atom.Section:
			switch attr(n, "class") {
			case "card":
				cards++
			case "control":
				controls++
			}
		case atom.Style:
			styles = append(styles, text(n))
		case atom.Script, atom.Link, atom.Img, atom.Iframe, atom.Object, atom.Embed:
			t.Errorf("the page loads a %s", n.Data)
		}
		if attr(n, "src") != "" || attr(n, "style") != "" {
			t.Errorf("<%s> has a src or inline style attribute", n.Data)
		}
	})
	if !htmlLang || !metaCharset {
		t.Errorf("lang=en %v, charset utf-8 %v", htmlLang, metaCharset)
	}
	if h1s != 1 {
		t.Errorf("%d h1 elements, want 1", h1s)
	}
	for _, l := range links {
		if !ids[l] {
			t.Errorf("link to #%s has no target", l)
		}
	}
	if cards != 3 || controls != 4 {
		t.Errorf("%d card sections and %d control sections, want 3 and 4", cards, controls)
	}
	css := strings.Join(styles, "\n")
	if len(styles) != 1 || !strings.Contains(css, "@media print") || !strings.Contains(css, "break-before: page") {
		t.Errorf("want one style element with print rules that break pages before cards:\n%s", css)
	}
	for _, bad := range []string{"@import", "url(", "@font-face", "http://", "https://"} {
		if strings.Contains(css, bad) {
			t.Errorf("the CSS refers to something outside the page: %s", bad)
		}
	}
}

// TestComplianceHTMLEscapes puts markup into every kind of text the page
// shows and expects it back as text, never as elements.
func TestComplianceHTMLEscapes(t *testing.T) {
	in := testCompliance()
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	in.Result.Findings[0].Message = evil
	in.Snapshot.Identities[1].Purpose = evil
	in.Snapshot.Exceptions[0].Reason = evil
	in.Framework.Controls[0].Title = evil
	src, doc := renderHTML(t, in)
	walk(doc, func(n *html.Node) {
		if n.DataAtom == atom.Script || n.DataAtom == atom.Img {
			t.Errorf("markup from the input became a <%s> element", n.Data)
		}
	})
	if strings.Count(src, "&lt;script&gt;alert(1)&lt;/script&gt;") < 4 {
		t.Errorf("the escaped text does not appear in every place it was put")
	}
}
