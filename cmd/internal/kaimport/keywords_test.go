package kaimport

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keywordsDoc is the table of every keepalived.conf keyword and what the
// import does with it.
const keywordsDoc = "../../../docs/keepalived-keywords.md"

// Statuses of docs/keepalived-keywords.md.
const (
	statusTranslated = "translated"    // no warning
	statusNoEffect   = "no effect"     // a note, no warning
	statusDiffers    = "differs"       // a warning that says what differs
	statusNotSupp    = "not supported" // a "not translated" warning
	statusInProgress = "translated (in progress)"
)

// keywordRow is one row of the table.
type keywordRow struct {
	line             int // in the document
	section, keyword string
	status, reason   string
	example          []string // keepalived lines
}

// readKeywordRows reads the tables of the document: under each "## `SECTION`"
// heading, rows "| `keyword` | status | reason | `example` |", the
// example's lines separated by " ; ".
func readKeywordRows(t *testing.T) []keywordRow {
	t.Helper()
	f, err := os.Open(keywordsDoc)
	require.NoError(t, err)
	defer f.Close()
	var rows []keywordRow
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if h, ok := strings.CutPrefix(l, "## "); ok {
			section = ""
			if strings.HasPrefix(h, "`") {
				section = strings.Trim(h, "`")
			}
			continue
		}
		if section == "" || !strings.HasPrefix(l, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), " | ")
		require.Len(t, cells, 4, "%s:%d: a row has 4 cells: %s", keywordsDoc, n, l)
		ex := strings.Trim(strings.TrimSpace(cells[3]), "`")
		rows = append(rows, keywordRow{line: n, section: section,
			keyword: strings.Trim(strings.TrimSpace(cells[0]), "`"),
			status:  strings.TrimSpace(cells[1]), reason: strings.TrimSpace(cells[2]),
			example: strings.Split(ex, " ; ")})
	}
	require.NoError(t, sc.Err())
	return rows
}

// keywordPrelude defines what the snippets refer to: a script, a track
// file, a tracked process and an instance VI_1.
const keywordPrelude = `vrrp_script chk {
  script "/usr/local/bin/check"
}
track_file tf {
  file /run/tf
}
vrrp_track_process tp {
  process nginx
}
`

// keywordSnippet is a keepalived configuration with example ex in its
// section, the line where ex starts, the line of the block ex is in (0 at
// the top level) and the line of the vrrp_instance's track entry that uses
// that block, if any. With ex nil, the same configuration without it.
func keywordSnippet(section string, ex []string) (conf string, line, block, use int, err error) {
	var b strings.Builder
	b.WriteString(keywordPrelude)
	first := ""
	if len(ex) > 0 {
		first = ex[0]
	}
	put := func(lines ...string) {
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	next := func() int { return strings.Count(b.String(), "\n") + 1 }
	here := func() {
		line = next()
		put(ex...)
	}
	open := func(header string) {
		block = next()
		put(header)
	}
	instance := func(inner bool, more ...string) {
		put("vrrp_instance VI_1 {", "interface eth0", "virtual_router_id 51", "priority 100",
			"virtual_ipaddress {", "10.0.0.100/24", "}")
		if len(more) > 0 {
			use = next() + 1 // the entry in track_X { }
		}
		put(more...)
		if inner {
			here()
		}
		put("}")
	}
	vs := func(rsBody func()) {
		open("virtual_server 10.0.0.1 80 {")
		put("protocol TCP")
		if section == "virtual_server" {
			here()
		}
		if section != "virtual_server" {
			open("real_server 10.0.1.1 80 {")
		} else {
			put("real_server 10.0.1.1 80 {")
		}
		rsBody()
		put("}", "}")
	}
	check := func(kind string, required ...string) func() {
		return func() {
			open(kind + " {")
			put(required...)
			here()
			put("}")
		}
	}
	switch section {
	case "top level":
		instance(false)
		here()
	case "parser directives":
		block = next()
		instance(true)
	case "global_defs":
		instance(false)
		open("global_defs {")
		here()
		put("}")
	case "vrrp_instance":
		block = next()
		instance(true)
	case "virtual_ipaddress", "virtual_routes", "virtual_rules":
		put("vrrp_instance VI_1 {", "interface eth0", "virtual_router_id 51", "priority 100",
			"virtual_ipaddress {", "10.0.0.100/24")
		if section != "virtual_ipaddress" {
			put("}")
		}
		if section != "virtual_ipaddress" {
			open(section + " {")
		} else {
			block = next() - 2
		}
		here()
		put("}", "}")
	case "authentication":
		put("vrrp_instance VI_1 {", "interface eth0", "virtual_router_id 51", "priority 100",
			"virtual_ipaddress {", "10.0.0.100/24", "}")
		open("authentication {")
		here()
		put("}", "}")
	case "vrrp_script":
		instance(false)
		open("vrrp_script chk2 {")
		if !slices.ContainsFunc(ex, func(l string) bool { return strings.HasPrefix(l, "script ") }) {
			put(`script "/usr/local/bin/check"`)
		}
		here()
		put("}")
	case "vrrp_sync_group":
		instance(false)
		put("vrrp_instance VI_2 {", "interface eth0", "virtual_router_id 52", "priority 100",
			"virtual_ipaddress {", "10.0.0.102/24", "}", "}")
		open("vrrp_sync_group G {")
		if !strings.HasPrefix(first, "group ") {
			put("group {", "VI_1", "VI_2", "}")
		}
		here()
		put("}")
	case "track_group":
		instance(false)
		open("track_group TG {")
		here()
		put("}")
	case "garp_group":
		instance(false)
		open("garp_group {")
		here()
		put("}")
	case "vrrp_track_process":
		instance(false, "track_process {", "tp2", "}")
		open("vrrp_track_process tp2 {")
		if !strings.HasPrefix(first, "process ") {
			put("process nginx")
		}
		here()
		put("}")
	case "track_file":
		instance(false, "track_file {", "tf2", "}")
		open("track_file tf2 {")
		if !strings.HasPrefix(first, "file ") {
			put("file /run/tf2")
		}
		here()
		put("}")
	case "bfd_instance":
		instance(false)
		open("bfd_instance bfd1 {")
		here()
		put("}")
	case "SSL":
		open("SSL {")
		here()
		put("}")
	case "virtual_server_group":
		open("virtual_server_group VSG {")
		here()
		put("}", "virtual_server group VSG {", "protocol TCP", "real_server 10.0.1.1 80 {", "}", "}")
	case "virtual_server":
		vs(func() { put("HTTP_GET {", "url {", "path /", "}", "}") })
	case "real_server":
		vs(func() { here(); put("TCP_CHECK {", "}") })
	case "TCP_CHECK", "PING_CHECK":
		vs(check(section))
	case "HTTP_GET", "SSL_GET":
		vs(check(section, "url {", "path /", "}"))
	case "url":
		vs(func() {
			put("HTTP_GET {")
			open("url {")
			put("path /")
			here()
			put("}", "}")
		})
	case "MISC_CHECK":
		vs(check(section, "misc_path /usr/local/bin/check"))
	case "SMTP_CHECK", "UDP_CHECK":
		vs(check(section))
	case "DNS_CHECK":
		vs(check(section, "name example.com"))
	case "FILE_CHECK":
		vs(check(section, "track_file tf"))
	case "BFD_CHECK":
		vs(check(section, "name bfd1"))
	default:
		return "", 0, 0, 0, fmt.Errorf("no snippet for section %q", section)
	}
	if ex == nil {
		line = 0
	}
	return b.String(), line, block, use, nil
}

// keywordFS is the machine the snippets are imported on: the programs they
// name are executables, the files they include exist.
func keywordFS(conf string) fstest.MapFS {
	fs := fstest.MapFS{"k.conf": {Data: []byte(conf)}}
	for _, p := range []string{"check", "up", "down", "nb", "nm", "nf", "ns", "nd", "nl", "notify", "qup", "qdown", "fifo"} {
		fs["usr/local/bin/"+p] = &fstest.MapFile{Data: []byte("\x7fELF"), Mode: 0o755}
	}
	// What the include rows include.
	fs["etc/keepalived/other.conf"] = &fstest.MapFile{Data: []byte("! nothing\n")}
	fs["etc/keepalived/a.conf"] = &fstest.MapFile{Data: []byte("! nothing\n")}
	fs["etc/passwd"] = &fstest.MapFile{Data: []byte("root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n")}
	return fs
}

// keywordOutcome imports the row's snippet and returns the diagnostics of
// the example's lines, those of the line of the block it is in and of the
// track entry that uses it, and whether the output differs from the one
// without the example.
func keywordOutcome(section string, ex []string) (diags, blockDiags []Diag, changed bool, err error) {
	conf, line, block, use, err := keywordSnippet(section, ex)
	if err != nil {
		return nil, nil, false, err
	}
	res, err := Import("k.conf", Options{FS: keywordFS(conf), ConfigID: "main"})
	if err != nil {
		return nil, nil, false, fmt.Errorf("import:\n%s\n%w", conf, err)
	}
	base, _, _, _, err := keywordSnippet(section, nil)
	if err != nil {
		return nil, nil, false, err
	}
	without, err := Import("k.conf", Options{FS: keywordFS(base), ConfigID: "main"})
	if err != nil {
		return nil, nil, false, fmt.Errorf("import:\n%s\n%w", base, err)
	}
	for _, d := range res.Diags {
		switch {
		case d.Pos.File != "k.conf":
		case d.Pos.Line >= line && d.Pos.Line < line+len(ex):
			diags = append(diags, d)
		case block != 0 && d.Pos.Line == block, use != 0 && d.Pos.Line == use:
			blockDiags = append(blockDiags, d)
		}
	}
	return diags, blockDiags, !slices.Equal(stripComments(res.HCL), stripComments(without.HCL)), nil
}

// stripComments is the output without comment lines.
func stripComments(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	return out
}

// TestKeywordTable checks every row of docs/keepalived-keywords.md against
// the import of its example: the status the table gives is the one the
// import's diagnostics for the example's lines have.
func TestKeywordTable(t *testing.T) {
	rows := readKeywordRows(t)
	require.NotEmpty(t, rows)
	seen := map[string]int{}
	for _, row := range rows {
		name := row.section + "/" + row.keyword
		if prev, dup := seen[name]; dup {
			t.Errorf("%s:%d: %s has a row already, at line %d", keywordsDoc, row.line, name, prev)
		}
		seen[name] = row.line
		t.Run(name, func(t *testing.T) {
			diags, blockDiags, _, err := keywordOutcome(row.section, row.example)
			require.NoError(t, err)
			var warns, notes []Diag
			for _, d := range diags {
				assert.NotContains(t, d.Msg, "unknown keyword", "%s:%d: every keyword of the table is keepalived's", keywordsDoc, row.line)
				if d.Severity == Warning {
					warns = append(warns, d)
				} else {
					notes = append(notes, d)
				}
			}
			blockLevel := false
			if len(warns) == 0 {
				// Reported with the block it is in, or at the track entry
				// that uses that block.
				for _, d := range blockDiags {
					if d.Severity == Warning {
						warns, blockLevel = append(warns, d), true
					}
				}
			}
			where := fmt.Sprintf("%s:%d: %s is %q, but the import says:\n%s", keywordsDoc, row.line, row.keyword, row.status, diagText(diags, blockDiags))
			notTranslated := slices.ContainsFunc(warns, func(d Diag) bool { return strings.HasPrefix(d.Msg, "not translated: ") })
			switch row.status {
			case statusTranslated:
				assert.Empty(t, warns, where)
			case statusNoEffect:
				assert.Empty(t, warns, where)
				assert.NotEmpty(t, notes, where)
			case statusDiffers:
				assert.NotEmpty(t, warns, where)
				assert.False(t, notTranslated, where)
			case statusNotSupp:
				assert.True(t, notTranslated, where)
				if !blockLevel {
					assert.True(t, slices.ContainsFunc(warns, func(d Diag) bool {
						return d.Keyword == row.keyword || strings.Contains(d.Msg, row.keyword)
					}), "%s\nthe warning names the keyword", where)
				}
			case statusInProgress:
			default:
				t.Errorf("%s:%d: unknown status %q", keywordsDoc, row.line, row.status)
			}
			assert.NotEmpty(t, row.reason, "%s:%d: every row says why", keywordsDoc, row.line)
		})
	}
}

// TestKeywordTableComplete: every keyword keepalived 2.2.7's parser knows
// has a row.
func TestKeywordTableComplete(t *testing.T) {
	have := map[string]bool{}
	count := map[string]int{}
	for _, row := range readKeywordRows(t) {
		have[row.keyword] = true
		count[row.status]++
	}
	// The summary table at the top counts the rows.
	doc, err := os.ReadFile(keywordsDoc)
	require.NoError(t, err)
	for status, n := range count {
		assert.True(t, strings.Contains(string(doc), fmt.Sprintf("\n| %s | %d |\n", status, n)), "%s: the summary should count %d %q rows", keywordsDoc, n, status)
	}
	b, err := os.ReadFile("testdata/keepalived-2.2.7-keywords.txt")
	require.NoError(t, err)
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		n++
		assert.True(t, have[l], "keepalived 2.2.7 keyword %q has no row in %s", l, keywordsDoc)
	}
	assert.Greater(t, n, 300)
}

func diagText(lists ...[]Diag) string {
	var b strings.Builder
	for _, l := range lists {
		for _, d := range l {
			b.WriteString("  " + d.String() + "\n")
		}
	}
	if b.Len() == 0 {
		return "  nothing\n"
	}
	return b.String()
}

// TestMiscTimeoutIsVirtualServerDelayLoop: keepalived 2.2 runs a MISC_CHECK
// without misc_timeout with the virtual_server's delay_loop as its timeout,
// whatever the check's own delay_loop (check_misc.c).
func TestMiscTimeoutIsVirtualServerDelayLoop(t *testing.T) {
	for _, tc := range []struct {
		name, vs, check string
		want            string
	}{
		{"defaults", "", "", "timeout = 60"},
		{"virtual_server delay_loop", "delay_loop 20", "", "timeout = 20"},
		{"check delay_loop", "delay_loop 20", "delay_loop 5", "timeout = 20"},
		{"misc_timeout", "delay_loop 20", "misc_timeout 3", "timeout = 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := "virtual_server 10.0.0.1 80 {\nprotocol TCP\n" + tc.vs + "\nreal_server 10.0.1.1 80 {\nMISC_CHECK {\nmisc_path /usr/local/bin/check\n" + tc.check + "\n}\n}\n}\n"
			res, err := Import("k.conf", Options{FS: keywordFS(conf)})
			require.NoError(t, err)
			var lines []string
			for _, l := range stripComments(res.HCL) {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
			assert.Contains(t, lines, tc.want, "%s", res.HCL)
		})
	}
}

// TestIncludeVariants: includer, includem, includew, includeb and includea
// read the files as include does.
func TestIncludeVariants(t *testing.T) {
	for _, kw := range []string{"include", "includer", "includem", "includew", "includeb", "includea"} {
		t.Run(kw, func(t *testing.T) {
			fs := keywordFS(kw + " /etc/keepalived/vs.conf\n")
			fs["etc/keepalived/vs.conf"] = &fstest.MapFile{Data: []byte("virtual_server 10.0.0.1 80 {\nprotocol TCP\nreal_server 10.0.1.1 80 {\n}\n}\n")}
			res, err := Import("k.conf", Options{FS: fs})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Services, diagText(res.Diags))
			assert.True(t, res.Complete(), diagText(res.Diags))
		})
	}
}
