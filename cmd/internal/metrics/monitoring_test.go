package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// monitoringDir holds the Grafana dashboard and the alerting rules that
// ship with lvsctl.
const monitoringDir = "../../../docs/monitoring"

// exportedNames are the metric names a scrape of `lvsctl run` can carry:
// every Desc of the Collector and of the runtime and process collectors
// NewRegistry adds, a histogram's _bucket, _sum and _count, and "up", which
// Prometheus itself records for every target.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{"up": true}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	ch := make(chan *prometheus.Desc, 512)
	for _, c := range []prometheus.Collector{
		New(source(), Options{}), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		c.Describe(ch)
	}
	close(ch)
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		require.NotNil(t, m, "a Desc without fqName: %s", d)
		names[m[1]] = true
	}
	for _, h := range []*prometheus.Desc{rsCheckTook, passTook} {
		n := fq.FindStringSubmatch(h.String())[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			names[n+suffix] = true
		}
	}
	return names
}

// promqlKeywords are PromQL's operators and modifiers spelled as words.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "offset": true, "bool": true, "atan2": true, "inf": true, "nan": true,
}

var (
	promqlString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promqlRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	grafanaVar     = regexp.MustCompile(`\$__\w+|\$\{\w+\}|\$\w+`)
)

// metricNames are the metric names a PromQL expression reads: the
// identifiers left once strings, label matchers, ranges and grouping
// label lists are taken out, other than functions (an identifier before
// "("), keywords and numbers.
func metricNames(expr string) []string {
	e := promqlString.ReplaceAllString(expr, `""`)
	e = grafanaVar.ReplaceAllString(e, "5m")
	e = promqlMatchers.ReplaceAllString(e, "")
	e = promqlRange.ReplaceAllString(e, "")
	e = promqlGrouping.ReplaceAllString(e, "")
	var out []string
	for _, loc := range promqlIdent.FindAllStringIndex(e, -1) {
		id := e[loc[0]:loc[1]]
		if loc[0] > 0 && (e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9' || e[loc[0]-1] == '.') {
			continue // the unit of a duration (5m) or an exponent (1e9)
		}
		if strings.HasPrefix(strings.TrimLeft(e[loc[1]:], " \t\n"), "(") || promqlKeywords[strings.ToLower(id)] {
			continue
		}
		out = append(out, id)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up{job="lvsctl"} == 0`, []string{"up"}},
		{`sum by (service, le) (rate(a_bucket{x=~"$i", y="by (z)"}[$__rate_interval]))`, []string{"a_bucket"}},
		{`(b == 0) * on(service, real) group_left (time() - c)`, []string{"b", "c"}},
		{`count by (vrid) (d{state="MASTER"} == 1) > 1e3`, []string{"d"}},
		{`increase(e[10m]) > 4 and f offset 5m`, []string{"e", "f"}},
		{`label_values(g{instance=~"$instance"}, service)`, []string{"g", "service"}},
	} {
		assert.Equal(t, c.want, metricNames(c.expr), c.expr)
	}
}

// dashboardExprs are the PromQL expressions of a Grafana dashboard: its
// panels' targets (rows' panels included), its annotations and its
// template variables' queries.
func dashboardExprs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	type target struct {
		Expr string `json:"expr"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var d struct {
		Panels      []panel `json:"panels"`
		Annotations struct {
			List []target `json:"list"`
		} `json:"annotations"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(b, &d), path)
	var exprs []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				require.NotEmpty(t, tg.Expr, "%s: panel %q has a target without expr", path, p.Title)
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			exprs = append(exprs, a.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		require.NoError(t, json.Unmarshal(v.Query, &q), "%s: a query variable", path)
		// label_values(METRIC{...}, LABEL): the label is not a metric.
		q.Query = regexp.MustCompile(`,\s*\w+\)\s*$`).ReplaceAllString(q.Query, ")")
		exprs = append(exprs, q.Query)
	}
	return exprs
}

// ruleExprs are the expressions of a Prometheus rules file.
func ruleExprs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f), path)
	var exprs []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Expr, "%s: rule %q", path, r.Alert)
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

// TestMonitoringNames: every metric the shipped dashboard and alerting
// rules read is one lvsctl exports, so that a renamed metric cannot leave
// a silent panel or an alert that never fires.
func TestMonitoringNames(t *testing.T) {
	exported := exportedNames(t)
	dashboards, err := filepath.Glob(filepath.Join(monitoringDir, "*.json"))
	require.NoError(t, err)
	rules, err := filepath.Glob(filepath.Join(monitoringDir, "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, dashboards, "no dashboard in %s", monitoringDir)
	require.NotEmpty(t, rules, "no rules in %s", monitoringDir)
	used := map[string]bool{}
	check := func(path string, exprs []string) {
		require.NotEmpty(t, exprs, path)
		for _, e := range exprs {
			names := metricNames(e)
			assert.NotEmpty(t, names, "%s: %q reads no metric", path, e)
			for _, n := range names {
				used[n] = true
				assert.True(t, exported[n], "%s: %q reads %s, which lvsctl does not export", filepath.Base(path), e, n)
			}
		}
	}
	for _, p := range dashboards {
		check(p, dashboardExprs(t, p))
	}
	for _, p := range rules {
		check(p, ruleExprs(t, p))
	}
	// The alerts the issue asks for each read their metric.
	for _, n := range []string{"up", "lvsctl_real_server_state", "lvsctl_virtual_server_quorum_up",
		"lvsctl_vrrp_transitions_total", "lvsctl_virtual_server_in_sync", "lvsctl_ipvs_scrape_success"} {
		assert.True(t, used[n], "no rule or panel reads %s", n)
	}
}

// TestMonitoringRulesPromtool runs `promtool check rules` on the shipped
// rules. CI installs promtool (.ci/host-deps, Debian's prometheus package);
// with CI set (as for requireVM, docs/testing.md) a missing promtool fails
// the test; elsewhere it skips, saying why.
func TestMonitoringRulesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is missing (CI is set): install Debian's prometheus package (.ci/host-deps): %v", err)
		}
		t.Skipf("promtool is not installed (Debian package prometheus); CI runs this check: %v", err)
	}
	rules, err := filepath.Glob(filepath.Join(monitoringDir, "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, rules)
	out, err := exec.Command(promtool, slices.Concat([]string{"check", "rules"}, rules)...).CombinedOutput()
	require.NoError(t, err, "promtool check rules:\n%s", out)
	t.Logf("%s", out)
}
