package hcl

import (
	"cmp"
	cryptotls "crypto/tls"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the health check part of both layers: check blocks, the
// timing attributes a virtual_server gives its checks, and argv lists.
//
//	check "tcp"   { connect_ip connect_port bind_to + timing }
//	check "http"  { ...tcp, url { path status regex regex_no_match
//	                regex_min_offset regex_max_offset digest virtualhost },
//	check "https"   virtualhost server_name tls_verify ca_file http_version
//	                cert_file key_file }
//	check "exec"  { command env dynamic_weight timeout + timing }
//	check "mysql" { ...tcp, user password password_file database query tls
//	                ca_file replication_running max_replication_lag read_only
//	                too_many_connections_rounds }  (check_mysql.go)
//
// Timing: delay_loop connect_timeout retry delay_before_retry warmup rise
// fall alpha, each taken from the check, else from its virtual_server, else
// from checker's (keepalived's) defaults.

// Check types.
const (
	checkTCP   = "tcp"
	checkHTTP  = "http"
	checkHTTPS = "https"
	checkExec  = "exec"
	checkMySQL = "mysql"
)

var connAttributes = []hcl.AttributeSchema{
	{Name: "connect_ip"},
	{Name: "connect_port"},
	{Name: "bind_to"},
}

var httpAttributes = []hcl.AttributeSchema{
	{Name: "virtualhost"},
	{Name: "server_name"},
	{Name: "tls_verify"},
	{Name: "ca_file"},
	{Name: "http_version"},
	{Name: "cert_file"},
	{Name: "key_file"},
}

var execAttributes = []hcl.AttributeSchema{
	{Name: "command"},
	{Name: "env"},
	{Name: "dynamic_weight"},
	{Name: "timeout"},
}

var urlSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path"},
		{Name: "status"},
		{Name: "regex"},
		{Name: "regex_no_match"},
		{Name: "regex_min_offset"},
		{Name: "regex_max_offset"},
		{Name: "digest"},
		{Name: "virtualhost"},
	},
}

// checkSchema returns the body schema of a check of type kind, nil for a
// type lvsctl does not run.
func checkSchema(kind string) *hcl.BodySchema {
	attrs := slices.Clone(timingAttributes)
	var blocks []hcl.BlockHeaderSchema
	switch kind {
	case checkTCP:
		attrs = append(append(attrs, connAttributes...), sourceAttributes...)
	case checkHTTP, checkHTTPS:
		attrs = append(append(append(attrs, connAttributes...), sourceAttributes...), httpAttributes...)
		blocks = append(blocks, hcl.BlockHeaderSchema{Type: blockURL})
	case checkExec:
		attrs = append(attrs, execAttributes...)
	case checkMySQL:
		attrs = append(append(attrs, connAttributes...), mysqlAttributes...)
	default:
		k, ok := moreCheckKind(kind) // check_kinds.go
		if !ok {
			return nil
		}
		attrs = append(attrs, k.schema()...)
	}
	return &hcl.BodySchema{Attributes: attrs, Blocks: blocks}
}

// belongsTo says which check types take an attribute or block that the
// check at hand does not, for a better "Unsupported argument".
func belongsTo(name string) string {
	has := func(list []hcl.AttributeSchema) bool {
		return slices.ContainsFunc(list, func(a hcl.AttributeSchema) bool { return a.Name == name })
	}
	switch {
	case name == "connect_ip", name == "bind_to":
		return "tcp, http, https, mysql, udp, dns, smtp and ping checks"
	case name == "bind_port", name == "bind_if":
		return "tcp, http and https checks"
	case has(connAttributes):
		return "tcp, http, https, mysql, udp, dns and smtp checks"
	case name == "ca_file":
		return "https and mysql checks"
	case has(httpAttributes), name == blockURL:
		return "http and https checks"
	case has(execAttributes):
		return "exec checks"
	case has(mysqlAttributes):
		return "mysql checks"
	}
	return moreBelongsTo(name) // check_kinds.go
}

// timingSyntax is the timing attributes of a virtual_server or a check.
type timingSyntax struct {
	// Durations take a number of seconds or a duration string.
	DelayLoop        *attr[cty.Value]
	ConnectTimeout   *attr[cty.Value]
	DelayBeforeRetry *attr[cty.Value]
	Warmup           *attr[cty.Value]
	Retry            *attr[*big.Float]
	Rise             *attr[*big.Float]
	Fall             *attr[*big.Float]
	Alpha            *attr[bool]
	// SMTPAlert is smtp_alert (alert.go), nil when absent.
	SMTPAlert *bool
}

// checkSyntax is a health check block: check "TYPE" { ... }. The body is
// decoded only for the types lvsctl runs.
type checkSyntax struct {
	Type      string    // the label as written
	HasType   bool      // false if the block has no label
	Kind      string    // Type in lower case
	TypeRange hcl.Range // the label; DefRange if none
	DefRange  hcl.Range // check "TYPE"
	Range     hcl.Range // the whole block
	// Bad is set when decoding the body reported an error.
	Bad bool

	Timing timingSyntax

	// tcp, http and https.
	ConnectIP   *attr[string]
	ConnectPort *attr[*big.Float]
	BindTo      *attr[string]
	BindPort    *attr[*big.Float] // check_source.go
	BindIf      *attr[string]

	// http and https.
	URLs        []*urlSyntax
	VirtualHost *attr[string]
	ServerName  *attr[string]
	TLSVerify   *attr[bool]
	CAFile      *attr[string]
	HTTPVersion *attr[cty.Value]
	CertFile    *attr[string] // https: client certificate
	KeyFile     *attr[string]

	// exec.
	Command       *attr[[]*attr[string]]
	Env           *attr[[]*envSyntax]
	DynamicWeight *attr[bool]
	Timeout       *attr[cty.Value]

	// mysql (with ConnectIP, ConnectPort, BindTo and CAFile).
	MySQL *mysqlSyntax
	// More is the syntax of a check type of check_kinds.go.
	More any
}

// urlSyntax is one url block of an http or https check.
type urlSyntax struct {
	DefRange hcl.Range

	Path *attr[string]
	// Status is a string of codes and ranges, a number or a list of them.
	// When written as a list literal, StatusItems holds its elements.
	Status      *attr[cty.Value]
	StatusList  bool
	StatusItems []*attr[cty.Value]
	Regex       *attr[string]
	NoMatch     *attr[bool]       // regex_no_match
	MinOffset   *attr[*big.Float] // regex_min_offset
	MaxOffset   *attr[*big.Float] // regex_max_offset
	Digest      *attr[string]
	VirtualHost *attr[string]
}

// envSyntax is one variable of an exec check's env.
type envSyntax struct {
	Name      string
	NameRange hcl.Range // the key, or the whole map when not a literal
	Value     string
}

// oneCheck returns the first of a body's check blocks; the caller keeps
// the others (tail), as keepalived allows several checkers per real server.
func (d *decoder) oneCheck(checks []*checkSyntax) *checkSyntax {
	if len(checks) == 0 {
		return nil
	}
	return checks[0]
}

// check decodes a check block, its body only when its type is known.
func (d *decoder) check(b *hclsyntax.Block) *checkSyntax {
	c := &checkSyntax{DefRange: b.DefRange(), Range: b.Range(), TypeRange: b.DefRange()}
	if len(b.Labels) == 0 {
		return c
	}
	c.Type, c.HasType, c.TypeRange = b.Labels[0], true, b.LabelRanges[0]
	c.Kind = strings.ToLower(c.Type)
	for _, r := range b.LabelRanges[1:] {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Extraneous label for check",
			Detail:   `A check block has one label, its type: check "tcp" { ... }, "http", "https", "exec" or "mysql".`,
			Subject:  r.Ptr(),
		})
	}
	schema := checkSchema(c.Kind)
	if schema == nil {
		return c
	}
	errs := len(d.diags.Errs())
	defer func() { c.Bad = len(d.diags.Errs()) > errs }()
	content, clean := syntaxContent(b.Body, schema) // decode.go
	var diags hcl.Diagnostics
	if !clean {
		content, diags = b.Body.Content(schema)
	}
	for _, diag := range diags {
		if diag.Subject == nil {
			continue
		}
		name := ""
		switch diag.Summary {
		case "Unsupported argument":
			for n, a := range b.Body.Attributes {
				if a.NameRange == *diag.Subject {
					name = n
				}
			}
		case "Unsupported block type":
			for _, blk := range b.Body.Blocks {
				if blk.TypeRange == *diag.Subject {
					name = blk.Type
				}
			}
		}
		if where := belongsTo(name); where != "" {
			diag.Detail = fmt.Sprintf("%s is not expected in check %q: it applies to %s.", upperFirst(diagWhat(diag.Summary, name)), c.Kind, where)
		}
	}
	d.diags = append(d.diags, diags...)

	a := content.Attributes
	c.Timing = d.timing(a)
	c.ConnectIP = decodeString(d, a["connect_ip"])
	c.ConnectPort = decodeNumber(d, a["connect_port"])
	c.BindTo = decodeString(d, a["bind_to"])
	c.BindPort = decodeNumber(d, a["bind_port"])
	c.BindIf = decodeString(d, a["bind_if"])
	c.VirtualHost = decodeString(d, a["virtualhost"])
	c.ServerName = decodeString(d, a["server_name"])
	c.TLSVerify = decodeBool(d, a["tls_verify"])
	c.CAFile = decodeString(d, a["ca_file"])
	c.HTTPVersion = d.raw(a["http_version"])
	c.CertFile = decodeString(d, a["cert_file"])
	c.KeyFile = decodeString(d, a["key_file"])
	c.Command = d.argv(a["command"])
	c.Env = d.env(a["env"])
	c.DynamicWeight = decodeBool(d, a["dynamic_weight"])
	c.Timeout = d.raw(a["timeout"])
	if c.Kind == checkMySQL {
		c.MySQL = d.mysql(a)
	}
	if k, ok := moreCheckKind(c.Kind); ok {
		c.More = k.decode(d, a)
	}
	for _, blk := range content.Blocks {
		if blk.Type == blockURL {
			c.URLs = append(c.URLs, d.url(blk))
		}
	}
	return c
}

func diagWhat(summary, name string) string {
	if summary == "Unsupported block type" {
		return fmt.Sprintf("a %s block", name)
	}
	return fmt.Sprintf("an argument named %q", name)
}

func (d *decoder) timing(a hcl.Attributes) timingSyntax {
	return timingSyntax{
		DelayLoop:        d.raw(a["delay_loop"]),
		ConnectTimeout:   d.raw(a["connect_timeout"]),
		DelayBeforeRetry: d.raw(a["delay_before_retry"]),
		Warmup:           d.raw(a["warmup"]),
		Retry:            decodeNumber(d, a["retry"]),
		Rise:             decodeNumber(d, a["rise"]),
		Fall:             decodeNumber(d, a["fall"]),
		Alpha:            decodeBool(d, a["alpha"]),
		SMTPAlert:        smtpAlert(d, a[attrSMTPAlert]),
	}
}

func (d *decoder) url(b *hcl.Block) *urlSyntax {
	u := &urlSyntax{DefRange: b.DefRange}
	content, diags := b.Body.Content(urlSchema)
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	u.Path = decodeString(d, a["path"])
	u.Regex = decodeString(d, a["regex"])
	u.NoMatch = decodeBool(d, a["regex_no_match"])
	u.MinOffset = decodeNumber(d, a["regex_min_offset"])
	u.MaxOffset = decodeNumber(d, a["regex_max_offset"])
	u.Digest = decodeString(d, a["digest"])
	u.VirtualHost = decodeString(d, a["virtualhost"])
	if st := a["status"]; st != nil {
		if exprs, diags := hcl.ExprList(st.Expr); !diags.HasErrors() {
			u.Status = &attr[cty.Value]{Name: st.Name, Range: st.Range, Value: st.Expr.Range()}
			u.StatusList = true
			for _, e := range exprs {
				el := d.raw(&hcl.Attribute{Name: st.Name, Expr: e, Range: st.Range, NameRange: st.NameRange})
				if el == nil {
					continue
				}
				if el.Bad {
					u.Status.Bad = true
				}
				u.StatusItems = append(u.StatusItems, el)
			}
		} else {
			u.Status = d.raw(st)
		}
	}
	return u
}

// argv decodes a program and its arguments: a list of strings. A single
// string gets a diagnostic of its own, since that is what keepalived takes.
func (d *decoder) argv(a *hcl.Attribute) *attr[[]*attr[string]] {
	if a == nil {
		return nil
	}
	if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && !v.IsNull() {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail: fmt.Sprintf("%s is a program and its arguments, run without a shell: write it as a list of strings, such as [\"/usr/local/bin/alert\", \"--service\", \"web\"]. For shell syntax, run [\"/bin/sh\", \"-c\", %q].",
				a.Name, v.AsString()),
			Subject: a.Expr.Range().Ptr(),
		})
		return &attr[[]*attr[string]]{Bad: true, Name: a.Name, Range: a.Range, Value: a.Expr.Range()}
	}
	return d.stringList(a)
}

// env decodes a map of strings, keeping the range of each key when the
// map is written as a literal.
func (d *decoder) env(a *hcl.Attribute) *attr[[]*envSyntax] {
	if a == nil {
		return nil
	}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		whole := decode(d, a, cty.Map(cty.String), func(v cty.Value) []*envSyntax {
			var out []*envSyntax
			for k, e := range v.AsValueMap() {
				if !e.IsNull() {
					out = append(out, &envSyntax{Name: k, NameRange: a.Expr.Range(), Value: e.AsString()})
				}
			}
			return out
		})
		if whole != nil {
			slices.SortFunc(whole.Val, func(x, y *envSyntax) int { return cmp.Compare(x.Name, y.Name) })
		}
		return whole
	}
	out := &attr[[]*envSyntax]{Name: a.Name, Range: a.Range, Value: a.Expr.Range()}
	seen := map[string]hcl.Range{}
	for _, p := range pairs {
		key := decodeString(d, &hcl.Attribute{Name: a.Name + " key", Expr: p.Key, Range: a.Range, NameRange: a.NameRange})
		val := decodeString(d, &hcl.Attribute{Name: a.Name, Expr: p.Value, Range: a.Range, NameRange: a.NameRange})
		if key == nil || key.Bad || (val != nil && val.Bad) {
			out.Bad = true
			continue
		}
		if val == nil {
			continue
		}
		if prev, dup := seen[key.Val]; dup {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate env variable",
				Detail:   fmt.Sprintf("%s is already set at %s.", key.Val, posString(prev)),
				Subject:  key.Value.Ptr(),
				Context:  prev.Ptr(),
			})
			out.Bad = true
			continue
		}
		seen[key.Val] = key.Value
		out.Val = append(out.Val, &envSyntax{Name: key.Val, NameRange: key.Value, Value: val.Val})
	}
	slices.SortFunc(out.Val, func(x, y *envSyntax) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// --- build ---

// maxCheckDuration bounds every check duration.
const maxCheckDuration = 24 * time.Hour

// timingValues are the timing attributes a virtual_server or a check sets;
// nil means not set (or invalid, and reported).
type timingValues struct {
	delayLoop, connectTimeout, delayBeforeRetry, warmup *time.Duration
	retry, rise, fall                                   *int
	alpha                                               *bool
	ok                                                  bool // every attribute was valid
}

func (b *builder) timingValues(t timingSyntax) timingValues {
	tv := timingValues{ok: true}
	dur := func(a *attr[cty.Value], zeroOK bool) *time.Duration {
		if a == nil {
			return nil
		}
		d, ok := b.duration(a, zeroOK)
		if !ok {
			tv.ok = false
			return nil
		}
		return &d
	}
	count := func(a *attr[*big.Float], lo int64) *int {
		if a == nil {
			return nil
		}
		n, ok := b.whole(a, lo, math.MaxInt32, "Invalid "+a.Name, a.Name)
		if !ok {
			tv.ok = false
			return nil
		}
		i := int(n)
		return &i
	}
	tv.delayLoop = dur(t.DelayLoop, false)
	tv.connectTimeout = dur(t.ConnectTimeout, false)
	tv.delayBeforeRetry = dur(t.DelayBeforeRetry, false)
	tv.warmup = dur(t.Warmup, true)
	tv.retry = count(t.Retry, 0)
	tv.rise = count(t.Rise, 1)
	tv.fall = count(t.Fall, 1)
	if t.Alpha != nil {
		if t.Alpha.ok() {
			tv.alpha = &t.Alpha.Val
		} else {
			tv.ok = false
		}
	}
	return tv
}

// apply sets the values of tv that are set on t.
func (tv timingValues) apply(t *checker.Timing) {
	set := func(dst *time.Duration, src *time.Duration) {
		if src != nil {
			*dst = *src
		}
	}
	seti := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	set(&t.DelayLoop, tv.delayLoop)
	set(&t.DelayBeforeRetry, tv.delayBeforeRetry)
	set(&t.Warmup, tv.warmup)
	seti(&t.Retry, tv.retry)
	seti(&t.Rise, tv.rise)
	seti(&t.Fall, tv.fall)
	if tv.alpha != nil {
		t.Alpha = *tv.alpha
	}
}

func durationHelp(name string, zeroOK bool) string {
	lo := "more than 0"
	if zeroOK {
		lo = "0 or more"
	}
	return fmt.Sprintf("%s takes a number of seconds (5, 0.5) or a duration string (\"500ms\", \"2s\", \"1m30s\"), %s and at most 24h.", name, lo)
}

// duration interprets a check duration: a number of seconds, fractions
// allowed, or a duration string.
func (b *builder) duration(a *attr[cty.Value], zeroOK bool) (time.Duration, bool) {
	if !a.ok() {
		return 0, false
	}
	v := a.Val
	var d time.Duration
	got := ""
	switch v.Type() {
	case cty.Number:
		f := v.AsBigFloat()
		got = formatNumber(f)
		ns := new(big.Float).Mul(f, big.NewFloat(float64(time.Second)))
		if ns.Sign() < 0 || ns.Cmp(big.NewFloat(float64(maxCheckDuration))) > 0 {
			d = -1
			break
		}
		ns.Add(ns, big.NewFloat(0.5))
		n, _ := ns.Int64()
		d = time.Duration(n)
	case cty.String:
		s := v.AsString()
		got = fmt.Sprintf("%q", s)
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			// A number in a string counts as seconds, as HCL converts it.
			if n, cerr := convert.Convert(v, cty.Number); cerr == nil {
				return b.duration(&attr[cty.Value]{Val: n, Name: a.Name, Range: a.Range, Value: a.Value}, zeroOK)
			}
			b.errorAt(a.Value, nil, "Invalid "+a.Name, "%q is not a duration. %s", s, durationHelp(a.Name, zeroOK))
			return 0, false
		}
	default:
		b.errorAt(a.Value, nil, "Incorrect attribute value type",
			"Inappropriate value for attribute %q: number or string required.", a.Name)
		return 0, false
	}
	if d < 0 || (d == 0 && !zeroOK) || d > maxCheckDuration {
		b.errorAt(a.Value, nil, "Invalid "+a.Name, "%s Got %s.", durationHelp(a.Name, zeroOK), got)
		return 0, false
	}
	return d, true
}

// builtCheck is a check block built once and shared by the real servers
// that use it.
type builtCheck struct {
	syn    *checkSyntax
	ok     bool // valid, and so is everything it inherits
	prober checker.Prober
	timing checker.Timing

	needPort  bool       // connects, and connect_port is not set
	connectIP netip.Addr // connect_ip, if set
	bindTo    netip.Addr // bind_to, if set
	// Target-dependent problems are reported once per block.
	portReported, familyReported bool
}

// errorCount is the number of errors reported so far.
func (b *builder) errorCount() int {
	n := 0
	for _, d := range b.diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

// check builds a check block with the timing defaults of its
// virtual_server. It returns nil for a block that is not a check lvsctl
// runs (reported).
func (b *builder) check(c *checkSyntax, vs timingValues) *builtCheck {
	switch {
	case !c.HasType:
		b.errorAt(c.DefRange, nil, "Missing check type",
			`A check block is labelled with its type: check "tcp" { ... }, "http", "https", "exec" or "mysql".`)
		return nil
	case checkSchema(c.Kind) == nil:
		hint := ""
		switch strings.ToUpper(c.Type) {
		case "TCP_CHECK":
			hint = ` keepalived's TCP_CHECK is check "tcp".`
		case "HTTP_GET":
			hint = ` keepalived's HTTP_GET is check "http".`
		case "SSL_GET":
			hint = ` keepalived's SSL_GET is check "https".`
		case "MISC_CHECK":
			hint = ` keepalived's MISC_CHECK is check "exec".`
		case "PING_CHECK", "UDP_CHECK", "DNS_CHECK", "SMTP_CHECK", "FILE_CHECK":
			hint = fmt.Sprintf(` keepalived's %s is check %q.`, strings.ToUpper(c.Type), strings.ToLower(strings.TrimSuffix(strings.ToUpper(c.Type), "_CHECK")))
		}
		b.errorAt(c.TypeRange, nil, "Unknown check type",
			`%q is not a check type. Valid types: "tcp", "http", "https", "exec", "mysql", "ping", "udp", "dns", "smtp" and "file".%s`, c.Type, hint)
		return nil
	}

	errs := b.errorCount()
	bc := &builtCheck{syn: c}
	own := b.timingValues(c.Timing)
	bc.timing = checker.DefaultTiming()
	if c.Kind == checkExec {
		bc.timing.Retry = checker.DefaultExecRetry
	}
	if k, ok := moreCheckKind(c.Kind); ok && k.retry != nil {
		bc.timing.Retry = *k.retry
	}
	vs.apply(&bc.timing)
	own.apply(&bc.timing)
	if k, ok := moreCheckKind(c.Kind); ok && k.retryDelayIsLoop && own.delayBeforeRetry == nil && vs.delayBeforeRetry == nil {
		bc.timing.DelayBeforeRetry = bc.timing.DelayLoop
	}
	timeout := checker.DefaultTimeout
	for _, t := range []*time.Duration{own.connectTimeout, vs.connectTimeout} {
		if t != nil {
			timeout = *t
			break
		}
	}

	switch c.Kind {
	case checkTCP:
		p := &checker.TCP{Timeout: timeout}
		p.ConnectIP, p.ConnectPort, p.BindTo = b.conn(c, bc)
		p.Source = b.source(c) // check_source.go
		bc.prober = p
	case checkHTTP, checkHTTPS:
		p := &checker.HTTP{TLS: c.Kind == checkHTTPS, Timeout: timeout}
		p.ConnectIP, p.ConnectPort, p.BindTo = b.conn(c, bc)
		p.Source = b.source(c)
		b.http(c, p)
		bc.prober = p
	case checkExec:
		bc.prober = b.exec(c, timeout)
	case checkMySQL:
		bc.prober = b.mysql(c, bc, timeout)
	default:
		bc.prober = b.moreCheck(c, bc, timeout) // check_kinds.go
	}

	bc.ok = vs.ok && !c.Bad && b.errorCount() == errs
	if bc.ok {
		// The checker's own rules, should ours have missed one.
		if err := bc.timing.Validate(); err != nil {
			b.errorAt(c.DefRange, c.Range.Ptr(), "Invalid check timing", "%s.", upperFirst(oneLine(err)))
			bc.ok = false
		}
		if v, ok := bc.prober.(checker.Validator); ok {
			if err := v.Validate(); err != nil {
				b.errorAt(c.DefRange, c.Range.Ptr(), "Invalid check", "%s.", upperFirst(oneLine(err)))
				bc.ok = false
			}
		}
	}
	return bc
}

// oneLine joins the lines of a joined error.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// conn builds connect_ip, connect_port and bind_to.
func (b *builder) conn(c *checkSyntax, bc *builtCheck) (connectIP netip.Addr, connectPort uint16, bindTo netip.Addr) {
	if c.ConnectIP != nil {
		connectIP, _ = b.ip(c.ConnectIP, "connect_ip")
	}
	if c.ConnectPort != nil {
		port, _ := b.whole(c.ConnectPort, 1, math.MaxUint16, "Invalid connect_port", "connect_port")
		connectPort = uint16(port)
	} else {
		bc.needPort = true
	}
	if c.BindTo != nil {
		bindTo, _ = b.ip(c.BindTo, "bind_to")
	}
	if connectIP.IsValid() && bindTo.IsValid() && connectIP.Is4() != bindTo.Is4() {
		b.errorAt(c.BindTo.Value, c.ConnectIP.Value.Ptr(), "bind_to address family mismatch",
			"bind_to %s is the source address of the check's connections to connect_ip %s (at %s), so both must be of one family.",
			bindTo, connectIP, posString(c.ConnectIP.Value))
	}
	bc.connectIP, bc.bindTo = connectIP, bindTo
	return connectIP, connectPort, bindTo
}

// http builds the http and https parts of a check.
func (b *builder) http(c *checkSyntax, p *checker.HTTP) {
	for _, u := range c.URLs {
		p.URLs = append(p.URLs, b.url(u))
	}
	if len(c.URLs) == 0 {
		p.URLs = []checker.URL{{Path: "/", Status: defaultStatus()}}
	}
	p.VirtualHost = b.hostName(c.VirtualHost)
	tls := c.Kind == checkHTTPS
	httpsOnly := func(a hcl.Range, name string) {
		b.errorAt(a, nil, name+" needs https",
			"%s applies to TLS, and this is an %q check. Use check \"https\", or remove %s.", name, c.Kind, name)
	}
	if c.ServerName != nil {
		if tls {
			p.ServerName = b.hostName(c.ServerName)
		} else {
			httpsOnly(c.ServerName.Range, "server_name")
		}
	}
	if c.TLSVerify != nil {
		if tls {
			p.Verify = c.TLSVerify.ok() && c.TLSVerify.Val
		} else {
			httpsOnly(c.TLSVerify.Range, "tls_verify")
		}
	}
	if c.CAFile != nil {
		switch {
		case !tls:
			httpsOnly(c.CAFile.Range, "ca_file")
		case !c.CAFile.ok():
		case c.TLSVerify.ok() && !c.TLSVerify.Val, c.TLSVerify == nil:
			ctx := (*hcl.Range)(nil)
			if c.TLSVerify != nil {
				ctx = c.TLSVerify.Range.Ptr()
			}
			b.errorAt(c.CAFile.Range, ctx, "ca_file without tls_verify",
				"ca_file is the CA that verifies the real servers' certificates, and verification is off (tls_verify defaults to false, like keepalived). Set tls_verify = true, or remove ca_file.")
		default:
			path := c.CAFile.Val
			if path != "" && !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(c.CAFile.Range.Filename), path)
			}
			pool, err := checker.ReadCAFile(path)
			if err != nil {
				b.external(c.CAFile.Value, absent(err), "Invalid ca_file",
					"ca_file must name a file of PEM certificates (read when the configuration is loaded; a relative path is relative to the configuration file): %v.", err)
				break
			}
			p.RootCAs = pool
		}
	}
	b.clientCert(c, p, tls, httpsOnly)
	if c.HTTPVersion.ok() {
		v := c.HTTPVersion.Val
		s := ""
		switch v.Type() {
		case cty.String:
			s = v.AsString()
		case cty.Number:
			s = v.AsBigFloat().Text('f', -1)
			if s == "1" {
				s = "1.0"
			}
		}
		switch s {
		case "1.1":
			p.Version = checker.HTTP11
		case "1.0":
			p.Version = checker.HTTP10
		default:
			b.errorAt(c.HTTPVersion.Value, nil, "Invalid http_version",
				"http_version must be \"1.1\" (the default) or \"1.0\".")
		}
	}
}

// clientCert builds cert_file and key_file, the client certificate of an
// https check (keepalived's SSL { certificate key }), read when the file
// is loaded.
func (b *builder) clientCert(c *checkSyntax, p *checker.HTTP, tls bool, httpsOnly func(hcl.Range, string)) {
	switch {
	case c.CertFile == nil && c.KeyFile == nil:
		return
	case !tls:
		if c.CertFile != nil {
			httpsOnly(c.CertFile.Range, "cert_file")
		} else {
			httpsOnly(c.KeyFile.Range, "key_file")
		}
		return
	case c.CertFile == nil || c.KeyFile == nil:
		a, missing := c.CertFile, "key_file"
		if a == nil {
			a, missing = c.KeyFile, "cert_file"
		}
		b.errorAt(a.Range, nil, "Missing "+missing,
			"cert_file and key_file go together: the client certificate the check presents (PEM) and its unencrypted private key (PEM).")
		return
	case !c.CertFile.ok() || !c.KeyFile.ok():
		return
	}
	cert, err := cryptotls.LoadX509KeyPair(relativeTo(c.CertFile), relativeTo(c.KeyFile))
	if err != nil {
		b.external(c.CertFile.Value, absent(err), "Invalid cert_file or key_file",
			"cert_file and key_file must name a PEM certificate and its unencrypted PEM private key (read when the configuration is loaded; a relative path is relative to the configuration file): %v.", err)
		return
	}
	p.Certificate = &cert
}

func defaultStatus() []checker.StatusRange { return []checker.StatusRange{{Min: 200, Max: 299}} }

// url builds one url block.
func (b *builder) url(u *urlSyntax) checker.URL {
	var out checker.URL
	switch {
	case u.Path == nil:
		b.errorAt(u.DefRange, nil, "Missing url path",
			"Every url block needs path, the request target: path = \"/health\".")
	case u.Path.ok():
		if !strings.HasPrefix(u.Path.Val, "/") || strings.ContainsAny(u.Path.Val, " \t\r\n") {
			b.errorAt(u.Path.Value, nil, "Invalid url path",
				"path is the request target: it starts with \"/\" and has no spaces (\"/health?full=1\"); got %q.", u.Path.Val)
		}
		out.Path = u.Path.Val
	}
	out.Status = defaultStatus()
	if u.Status != nil {
		out.Status = b.status(u)
	}
	if u.Regex.ok() {
		re, err := regexp.Compile(u.Regex.Val)
		if err != nil {
			b.errorAt(u.Regex.Value, nil, "Invalid regex",
				"regex must be a Go regular expression (RE2 syntax: no backreferences or lookaround), matched against the body: %v.", err)
		}
		out.Regex = re
	}
	b.regexOptions(u, &out)
	if u.Digest.ok() {
		if raw, err := hex.DecodeString(u.Digest.Val); err != nil || len(raw) != 16 {
			b.errorAt(u.Digest.Value, nil, "Invalid digest",
				"digest is the MD5 sum of the body as 32 hexadecimal digits (what keepalived's genhash prints); got %q.", u.Digest.Val)
		}
		out.Digest = strings.ToLower(u.Digest.Val)
	}
	out.VirtualHost = b.hostName(u.VirtualHost)
	return out
}

// regexOptions builds regex_no_match, regex_min_offset and
// regex_max_offset, which need regex.
func (b *builder) regexOptions(u *urlSyntax, out *checker.URL) {
	for _, a := range []hcl.Range{rangeOf(u.NoMatch), rangeOf(u.MinOffset), rangeOf(u.MaxOffset)} {
		if a != (hcl.Range{}) && u.Regex == nil {
			b.errorAt(a, nil, "Regex option without regex",
				"regex_no_match, regex_min_offset and regex_max_offset apply to the url's regex, and it has none: add regex, or remove them.")
			return
		}
	}
	out.RegexNoMatch = u.NoMatch.ok() && u.NoMatch.Val
	if u.MinOffset != nil {
		n, _ := b.whole(u.MinOffset, 0, maxRegexOffset, "Invalid regex_min_offset", "regex_min_offset")
		out.RegexMinOffset = int(n)
	}
	if u.MaxOffset != nil {
		n, _ := b.whole(u.MaxOffset, 1, maxRegexOffset, "Invalid regex_max_offset", "regex_max_offset")
		out.RegexMaxOffset = int(n)
	}
	if u.MinOffset.ok() && u.MaxOffset.ok() && out.RegexMaxOffset != 0 && out.RegexMinOffset > out.RegexMaxOffset {
		b.errorAt(u.MinOffset.Range, u.MaxOffset.Range.Ptr(), "Invalid regex_min_offset",
			"regex_min_offset %d is past regex_max_offset %d (at %s): no match could start.", out.RegexMinOffset, out.RegexMaxOffset, posString(u.MaxOffset.Range))
	}
}

// maxRegexOffset is the largest regex offset: the most of a body read.
const maxRegexOffset = checker.DefaultMaxBody

const statusHelp = "status takes a code (200), a string of codes and ranges (\"200-299,301\") or a list of them ([200, 301]), each from 100 to 599."

// status builds the status of a url block.
func (b *builder) status(u *urlSyntax) []checker.StatusRange {
	if u.Status.Bad {
		return nil
	}
	items := u.StatusItems
	if !u.StatusList {
		v := u.Status.Val
		if v.Type().IsTupleType() || v.Type().IsListType() || v.Type().IsSetType() {
			u.StatusList = true
			for _, e := range v.AsValueSlice() {
				items = append(items, &attr[cty.Value]{Val: e, Name: u.Status.Name, Range: u.Status.Range, Value: u.Status.Value})
			}
		} else {
			items = []*attr[cty.Value]{u.Status}
		}
	}
	if len(items) == 0 {
		b.errorAt(u.Status.Value, nil, "Invalid status", "status is empty. %s", statusHelp)
		return nil
	}
	var out []checker.StatusRange
	for _, it := range items {
		v := it.Val
		switch {
		case v.IsNull():
			continue
		case v.Type() == cty.Number:
			code, ok := wholeIn(v.AsBigFloat(), 100, 599)
			if !ok {
				b.errorAt(it.Value, nil, "Invalid status", "%s Got %s.", statusHelp, formatNumber(v.AsBigFloat()))
				continue
			}
			out = append(out, checker.StatusRange{Min: int(code), Max: int(code)})
		case v.Type() == cty.String:
			rs, err := checker.ParseStatusRanges(v.AsString())
			if err != nil {
				b.errorAt(it.Value, nil, "Invalid status", "%s. %s", upperFirst(err.Error()), statusHelp)
				continue
			}
			out = append(out, rs...)
		default:
			b.errorAt(it.Value, nil, "Invalid status", "%s", statusHelp)
		}
	}
	return out
}

// hostName checks a host name for a Host header or SNI.
func (b *builder) hostName(a *attr[string]) string {
	if !a.ok() {
		return ""
	}
	if a.Val == "" || strings.ContainsAny(a.Val, " \t\r\n/") {
		b.errorAt(a.Value, nil, "Invalid "+a.Name,
			"%s is a host name, optionally with a port (\"www.example.com\", \"www.example.com:8080\"), without spaces or slashes; got %q.", a.Name, a.Val)
		return ""
	}
	return a.Val
}

// exec builds an exec check; timeout is its default timeout.
func (b *builder) exec(c *checkSyntax, timeout time.Duration) *checker.Exec {
	p := &checker.Exec{Timeout: timeout}
	if c.Command == nil {
		b.errorAt(c.DefRange, nil, "Missing command",
			"An exec check needs command, the program to run and its arguments (without a shell): command = [\"/usr/local/bin/check-db\", \"--quick\"].")
	} else {
		var ok bool
		if p.Argv, ok = b.argv(c.Command); ok {
			b.lookPath(p.Argv[0], c.Command.Val[0].Value)
		}
	}
	if c.Env.ok() {
		for _, e := range c.Env.Val {
			if e.Name == "" || strings.ContainsAny(e.Name, "=\x00") || strings.HasPrefix(e.Name, "LVSCTL_") {
				b.errorAt(e.NameRange, nil, "Invalid env variable",
					"%q cannot be an environment variable name: names are not empty, have no \"=\", and LVSCTL_ is reserved for the variables lvsctl sets (LVSCTL_SERVICE, LVSCTL_REAL_ADDR, LVSCTL_REAL_PORT).", e.Name)
				continue
			}
			p.Env = append(p.Env, e.Name+"="+e.Value)
		}
	}
	p.DynamicWeight = c.DynamicWeight.ok() && c.DynamicWeight.Val
	if c.Timeout != nil {
		p.Timeout, _ = b.duration(c.Timeout, false)
	}
	return p
}

// argv checks a program and its arguments.
func (b *builder) argv(a *attr[[]*attr[string]]) ([]string, bool) {
	if !a.ok() {
		return nil, false
	}
	if len(a.Val) == 0 {
		b.errorAt(a.Value, nil, "Invalid "+a.Name,
			"%s is a program and its arguments, run without a shell, such as [\"/usr/local/bin/alert\", \"web\"]; it must not be empty.", a.Name)
		return nil, false
	}
	if a.Val[0].Val == "" {
		b.errorAt(a.Val[0].Value, nil, "Invalid "+a.Name,
			"The first element of %s is the program to run (a path, or a name looked up in PATH); it must not be empty.", a.Name)
		return nil, false
	}
	argv := make([]string, len(a.Val))
	for i, s := range a.Val {
		argv[i] = s.Val
	}
	return argv, true
}

// hook builds a notify or quorum hook; nil if absent or invalid.
func (b *builder) hook(a *attr[[]*attr[string]]) *Hook {
	if a == nil {
		return nil
	}
	argv, ok := b.argv(a)
	if !ok {
		return nil
	}
	return &Hook{Argv: argv, Timeout: DefaultHookTimeout}
}
