package kaimport

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// translator turns parsed statements into output blocks, recording what it
// could not translate.
type translator struct {
	opts  Options
	fs    fileSource
	diags []Diag
	items []item

	// alert is global_defs' e-mail alert keywords (alert.go).
	alert *alertDefs
	// vrrpVersion is global_defs' vrrp_version (0: not set).
	vrrpVersion int
	vrrpStrict  *Stmt        // global_defs' vrrp_strict, if set: strict_mode of every instance (vrrp.go)
	vrrpGARP    garpDefaults // global_defs' vrrp_garp_master_* (vrrp.go)
	vsgs        map[string]*Stmt
	usedVSG     map[string]bool
	// scripts, instances: the names of the vrrp_script and vrrp_instance
	// blocks in the output.
	scripts   map[string]bool
	instances map[string]bool
	// allInstances: the names of every vrrp_instance of the files.
	allInstances map[string]bool
	// syncStmt is the sync daemon setting keepalived takes (nil if none),
	// syncInst the vrrp_instance that holds it if it is
	// lvs_sync_daemon_interface.
	syncStmt, syncInst *Stmt
	// timeouts is the timeouts block of lvs_timeouts (timeouts.go).
	timeouts *hblock
	vipOwner map[netip.Addr]string
	names    map[string]bool
	services int

	// scriptUser and scriptSecurity are global_defs' script_user and
	// enable_script_security (nil if absent), in the top-level statements
	// *Top; cmds are the commands translated, with their user.
	scriptUser, scriptUserTop         *Stmt
	scriptSecurity, scriptSecurityTop *Stmt
	cmds                              []cmdRef
	passwd                            map[string]bool
	defaultNoted                      bool

	// top is every top-level statement (checks.go's track_file lookup).
	top []*Stmt

	// cur is the top-level statement being translated; out holds the
	// output of each.
	cur *Stmt
	out map[*Stmt][]item
}

func (t *translator) record(s *Stmt, sev Severity, msg string) {
	kw := ""
	if len(s.Words) > 0 {
		kw = s.Keyword()
	}
	t.diags = append(t.diags, Diag{Pos: s.Pos, Severity: sev, Keyword: kw, Msg: msg})
}

// header is the comment line that introduces a statement that is not
// translated (or only in part).
func header(s *Stmt, sev Severity, msg string) string {
	return fmt.Sprintf("%s: %s: %s", s.Pos, sev, msg)
}

// stmtLines is statement s as comment lines.
func stmtLines(s *Stmt, indent string) []string {
	l := indent + s.Raw
	if !s.HasBlock {
		return []string{l}
	}
	out := []string{l + " {"}
	for _, c := range s.Block {
		out = append(out, stmtLines(c, indent+"  ")...)
	}
	return append(out, indent+"}")
}

// drop records that statement s is not in the output and comments it out
// in b (at the top level when b is nil).
func (t *translator) drop(b *hblock, s *Stmt, sev Severity, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if sev == Warning {
		msg = "not translated: " + msg
	}
	t.comment(b, s, sev, msg)
}

// partly records that statement s was translated with a difference, and
// shows it in b.
func (t *translator) partly(b *hblock, s *Stmt, sev Severity, format string, args ...any) {
	t.comment(b, s, sev, fmt.Sprintf(format, args...))
}

func (t *translator) comment(b *hblock, s *Stmt, sev Severity, msg string) {
	t.record(s, sev, msg)
	c := append(hcomment{header(s, sev, msg)}, stmtLines(s, "")...)
	if b == nil {
		t.emit(item{comment: c})
		return
	}
	b.notes = append(b.notes, c)
}

// unsupported drops s with the reason of its keyword in reasons, or as an
// unknown keyword.
func (t *translator) unsupported(b *hblock, s *Stmt, where string, reasons map[string]string) {
	if t.alertKeyword(b, s, where) { // alert.go
		return
	}
	r, ok := reasons[s.Keyword()]
	if !ok {
		r, ok = knownReason(where, s.Keyword()) // keywords.go
	}
	if ok {
		sev := Warning
		if r2, isNote := strings.CutPrefix(r, "note: "); isNote {
			sev, r = Note, r2
		}
		t.drop(b, s, sev, "%s", r)
		return
	}
	t.unknown(b, s, where)
}

// unknown drops a statement whose keyword keepalived does not know. Its
// text is not shown, only its keyword if that looks like one: the line may
// come from a file that is not keepalived's (include /etc/shadow), whose
// contents must not end up in the output or on the terminal.
func (t *translator) unknown(b *hblock, s *Stmt, where string) {
	kw := s.Keyword()
	var msg, shown string
	if looksLikeKeyword(kw) {
		msg = fmt.Sprintf("not translated: unknown keyword %q in %s (keepalived 2.2 ignores it too); the rest of the line is not shown", kw, where)
		shown = kw + " ..."
	} else {
		kw = "?"
		msg = fmt.Sprintf("not translated: this line of %s is not a keepalived statement, and is not shown (it may come from a file that is not keepalived's); keepalived 2.2 ignores it too", where)
	}
	if s.HasBlock {
		msg += "; so is its block"
	}
	t.diags = append(t.diags, Diag{Pos: s.Pos, Severity: Warning, Keyword: kw, Msg: msg})
	c := hcomment{header(s, Warning, msg)}
	if shown != "" {
		c = append(c, shown)
	}
	if b == nil {
		t.emit(item{comment: c})
		return
	}
	b.notes = append(b.notes, c)
}

// looksLikeKeyword: letters, digits, '_' and '-', at most 64, starting with
// a letter or '_': what keepalived's keywords are made of.
func looksLikeKeyword(w string) bool {
	if w == "" || len(w) > 64 || !(isAlpha(w[0]) || w[0] == '_') {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isAlnum(w[i]) && w[i] != '_' && w[i] != '-' {
			return false
		}
	}
	return true
}

// Arguments.

// number reads argument i of s as a number in [lo, hi] (a whole one if
// whole); a bad one is dropped with a warning.
func (t *translator) number(b *hblock, s *Stmt, i int, lo, hi float64, whole bool) (float64, bool) {
	a := s.Arg(i)
	if a == "" {
		t.drop(b, s, Warning, "%s needs a value", s.Keyword())
		return 0, false
	}
	f, err := strconv.ParseFloat(a, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || (whole && f != math.Trunc(f)) {
		kind := "a number"
		if whole {
			kind = "a whole number"
		}
		t.drop(b, s, Warning, "%q is not %s", a, kind)
		return 0, false
	}
	if f < lo || f > hi {
		t.drop(b, s, Warning, "%s is out of range (%g to %g)", a, lo, hi)
		return 0, false
	}
	return f, true
}

// duration reads argument i of s as a number of seconds > 0 (>= 0 if zero).
func (t *translator) duration(b *hblock, s *Stmt, zero bool) (float64, bool) {
	f, ok := t.number(b, s, 0, 0, 86400, false)
	if ok && f == 0 && !zero {
		t.drop(b, s, Warning, "%s 0 is not valid in lvsctl (more than 0 seconds)", s.Keyword())
		return 0, false
	}
	return f, ok
}

// flag reads the optional true/false argument of a flag keyword.
func (t *translator) flag(b *hblock, s *Stmt) (bool, bool) {
	switch strings.ToLower(s.Arg(0)) {
	case "", "true", "on", "yes":
		return true, true
	case "false", "off", "no":
		return false, true
	}
	t.drop(b, s, Warning, "%q is not true or false", s.Arg(0))
	return false, false
}

// extraArgs warns about the words after the ones a keyword takes.
func (t *translator) extraArgs(b *hblock, s *Stmt, n int) {
	if len(s.Args()) > n {
		t.partly(b, s, Warning, "the words after %s are ignored (by keepalived too): %s",
			strings.Join(s.Words[:n+1], " "), strings.Join(s.Args()[n:], " "))
	}
}

// setCommand translates a command keyword into the list attribute name of
// b; hook says that words after the command name a user and group; user is
// the "user" statement of the command's block (nil if none).
func (t *translator) setCommand(b *hblock, s *Stmt, name string, hook bool, user *Stmt) bool {
	c, err := parseCommand(s)
	if err != nil {
		t.drop(b, s, Warning, "%v", err)
		return false
	}
	kind, why, prog := classify(t.fs, c.words)
	var warn, note []string
	meta := ""
	if c.meta {
		meta = "; the shell syntax in the line (; | & $ < > ( ) or a backquote) reaches it as plain arguments, as under keepalived"
	}
	switch kind {
	case runShell:
		c.argv = []string{"/bin/sh", "-c", cmdStr(c.words)}
		w := fmt.Sprintf("keepalived runs this command with a shell: %s; so does the translation: %s. ", why, hclList(c.argv))
		if bash := bashOnly(cmdStr(c.words)); len(bash) > 0 {
			w += fmt.Sprintf("It uses %s, which bash has and dash has not; /bin/sh is dash on Debian and Ubuntu, "+
				"where this command fails every time, under keepalived as under lvsctl (a vrrp_script that always fails lowers the priority for good, or holds the instance in FAULT without a weight; a check keeps its server down); "+
				"it works only where /bin/sh is bash. To run it with bash on any system, write [\"/bin/bash\", \"-c\", ...] in the output (and \"bash -c '...'\" in keepalived.conf)",
				strings.Join(bash, ", "))
		} else {
			w += "/bin/sh is dash on Debian and Ubuntu, not bash: bash's /dev/tcp, [[ ]] and the like fail there, under keepalived as here"
		}
		for i, x := range c.words {
			if strings.Contains(x, "'") && (i > 0 || !strings.HasPrefix(x, "<") && !strings.HasPrefix(x, ">")) {
				w += "; a word holds a single quote, which keepalived does not escape: the shell reads what follows it as shell syntax"
				break
			}
		}
		warn = append(warn, w)
	case runRefused:
		warn = append(warn, fmt.Sprintf("keepalived does not run this command: %s, and keepalived disables such a command; lvsctl will fail to start it (translated to run %q directly)", why, c.words[0]))
	case runUnknown:
		note = append(note, fmt.Sprintf("%s, so the import cannot check how keepalived runs it: translated to run it directly, without a shell, as keepalived runs a binary or a script with a \"#!\" line%s", why, meta))
	case runDirect:
		if c.meta {
			note = append(note, fmt.Sprintf("keepalived runs %s directly, without a shell%s; so does the translation", c.words[0], meta))
		}
	}
	b.set(name, strList(c.argv))
	if len(c.extra) > 0 && !hook {
		warn = append(warn, fmt.Sprintf("keepalived runs only %q and ignores %s: quote the whole command line to pass arguments; translated as keepalived runs it",
			c.words[0], strings.Join(c.extra, " ")))
	}
	as := t.runAs(c, hook, user)
	if t.scriptSecurity != nil && as.root() && prog != "" && (kind == runDirect || kind == runShell) {
		if why := insecure(t.fs, prog); why != "" {
			warn = append(warn, fmt.Sprintf("with enable_script_security (%s) keepalived refuses to run this command as root: %s (on this machine); lvsctl runs it", t.scriptSecurity.Pos, why))
		}
	}
	if w, n := t.userDiag(s, c, as); w != "" {
		warn = append(warn, w)
	} else if n != "" {
		note = append(note, n)
	}
	if len(warn) > 0 {
		t.partly(b, s, Warning, "%s", strings.Join(warn, "; "))
	}
	if len(note) > 0 {
		t.partly(b, s, Note, "%s", strings.Join(note, "; "))
	}
	return true
}

// Top level.

// globalReasons explain the global_defs keywords lvsctl does without.
var globalReasons = map[string]string{
	"enable_traps":                 "lvsctl has no SNMP agent",
	"enable_snmp_keepalived":       "lvsctl has no SNMP agent",
	"enable_snmp_vrrp":             "lvsctl has no SNMP agent",
	"enable_snmp_checker":          "lvsctl has no SNMP agent",
	"enable_snmp_rfc":              "lvsctl has no SNMP agent",
	"enable_snmp_rfcv2":            "lvsctl has no SNMP agent",
	"enable_snmp_rfcv3":            "lvsctl has no SNMP agent",
	"snmp_socket":                  "lvsctl has no SNMP agent",
	"enable_dbus":                  "lvsctl has no D-Bus interface",
	"lvs_flush":                    "lvsctl never flushes the IPVS table: it changes only the services it owns",
	"lvs_flush_onstop":             "lvsctl never flushes the IPVS table; flush_on_exit removes only the services it owns",
	"vrrp_mcast_group4":            "lvsctl sends VRRP adverts to the standard multicast group",
	"vrrp_mcast_group6":            "lvsctl sends VRRP adverts to the standard multicast group",
	"vrrp_strict":                  "note: translated into strict_mode = true in each vrrp_instance",
	"vrrp_iptables":                "lvsctl puts the no_accept and strict_mode drop rules in nftables tables of its own (lvsctl_vrrp_VRID_IFINDEX), not in the iptables chains named here",
	"vrrp_ipsets":                  "lvsctl puts the no_accept and strict_mode drop rules in nftables tables of its own (lvsctl_vrrp_VRID_IFINDEX), not in the ipsets named here",
	"nftables":                     "lvsctl puts the no_accept and strict_mode drop rules in nftables tables of its own (lvsctl_vrrp_VRID_IFINDEX), not in the nftables table named here",
	"vrrp_skip_check_adv_addr":     "lvsctl always checks the addresses in adverts",
	"vrrp_check_unicast_src":       "lvsctl does not check the source of unicast adverts",
	"dynamic_interfaces":           "lvsctl does not wait for missing interfaces",
	"vrrp_priority":                "note: process scheduling of keepalived; lvsctl is one process",
	"checker_priority":             "note: process scheduling of keepalived; lvsctl is one process",
	"bfd_priority":                 "note: process scheduling of keepalived; lvsctl is one process",
	"vrrp_no_swap":                 "note: process memory of keepalived; lvsctl is one process",
	"checker_no_swap":              "note: process memory of keepalived; lvsctl is one process",
	"vrrp_rt_priority":             "note: process scheduling of keepalived; lvsctl is one process",
	"checker_rt_priority":          "note: process scheduling of keepalived; lvsctl is one process",
	"max_auto_priority":            "note: process scheduling of keepalived; lvsctl is one process",
	"vrrp_rlimit_rttime":           "note: process scheduling of keepalived; lvsctl is one process",
	"checker_rlimit_rttime":        "note: process scheduling of keepalived; lvsctl is one process",
	"vrrp_cpu_affinity":            "note: process scheduling of keepalived; lvsctl is one process",
	"checker_cpu_affinity":         "note: process scheduling of keepalived; lvsctl is one process",
	"process_names":                "note: process names of keepalived; lvsctl is one process",
	"vrrp_process_name":            "note: process names of keepalived; lvsctl is one process",
	"checker_process_name":         "note: process names of keepalived; lvsctl is one process",
	"default_interface":            "lvsctl has no default interface: every vrrp_instance sets interface (a static_ipaddress without dev gets it written in)",
	"vrrp_notify_fifo":             "lvsctl has no notify FIFO; use notify hooks",
	"vrrp_notify_fifo_script":      "lvsctl has no notify FIFO; use notify hooks",
	"lvs_notify_fifo":              "lvsctl has no notify FIFO; use notify hooks",
	"lvs_notify_fifo_script":       "lvsctl has no notify FIFO; use notify hooks",
	"notify_fifo":                  "lvsctl has no notify FIFO; use notify hooks",
	"notify_fifo_script":           "lvsctl has no notify FIFO; use notify hooks",
	"vrrp_higher_prio_send_advert": "lvsctl does not answer adverts of a higher priority",
	"net_namespace":                "lvsctl runs in the namespace it is started in (or --netns)",
	"checker_log_all_failures":     "note: logging only",
	"vrrp_min_garp":                "lvsctl's gratuitous ARP timing is set per vrrp_instance",
	"vrrp_garp_interval":           "lvsctl does not space gratuitous ARPs per interface",
	"vrrp_gna_interval":            "lvsctl does not space unsolicited neighbour adverts per interface",
	"vrrp_lower_prio_no_advert":    "lvsctl does not change how it answers lower priorities",
}

// topReasons explain the top-level blocks lvsctl does without.
var topReasons = map[string]string{
	"net_namespace":        "lvsctl runs in the namespace it is started in (or --netns)",
	"instance":             "lvsctl runs one instance per configuration file",
	"use_pid_dir":          "note: keepalived's pid files; lvsctl has none",
	"linkbeat_use_polling": "lvsctl watches links with netlink only",
	"linkbeat_interfaces":  "lvsctl watches links with netlink only",
	"vrrp_track_process":   "note: lvsctl has no top-level vrrp_track_process: each vrrp_instance tracking it looks for the process (track { process = ... })",
	"track_process":        "note: lvsctl has no top-level vrrp_track_process: each vrrp_instance tracking it looks for the process (track { process = ... })",
	"vrrp_track_file":      "note: lvsctl has no top-level track_file: each vrrp_instance tracking it reads its file (track { file = ... })",
	"track_file":           "note: lvsctl has no top-level track_file: each vrrp_instance tracking it reads its file (track { file = ... })",
	"bfd_instance":         "lvsctl has no BFD",
	"garp_group":           "lvsctl's gratuitous ARP timing is set per vrrp_instance",
	"SSL":                  "lvsctl's https checks present no client certificate",
}

// translate turns the statements of a file into output items, in file
// order.
func (t *translator) translate(stmts []*Stmt) {
	// Definitions used by others, wherever they are in the file.
	t.allInstances = map[string]bool{}
	t.top = stmts
	t.syncStmt, t.syncInst = findSyncDaemon(stmts)
	for _, s := range stmts {
		switch s.Keyword() {
		case "vrrp_instance":
			t.allInstances[s.Arg(0)] = true
		case "global_defs":
			for _, c := range s.Block {
				switch c.Keyword() {
				case "vrrp_version":
					if n, err := strconv.Atoi(c.Arg(0)); err == nil && (n == 2 || n == 3) {
						t.vrrpVersion = n
					}
				case "vrrp_strict":
					t.vrrpStrict = c
				case "vrrp_garp_master_delay", "vrrp_garp_master_repeat", "vrrp_garp_master_refresh", "vrrp_garp_master_refresh_repeat", "vrrp_startup_delay":
					t.vrrpGARP = t.vrrpGARP.add(c)
				case "script_user":
					t.scriptUser, t.scriptUserTop = c, s
				case "enable_script_security":
					t.scriptSecurity, t.scriptSecurityTop = c, s
				}
			}
		case "virtual_server_group":
			if name := s.Arg(0); name != "" && t.vsgs[name] == nil {
				t.vsgs[name] = s
			}
		}
	}
	// Scripts before instances before sync groups, since each refers to the
	// ones before (keepalived resolves names after reading everything);
	// then the rest. Each top-level statement's output is kept apart and
	// put in file order at the end.
	pass := func(match func(kw string) bool, fn func(s *Stmt)) {
		for _, s := range stmts {
			if match(s.Keyword()) {
				t.cur = s
				fn(s)
			}
		}
	}
	is := func(kw string) func(string) bool { return func(k string) bool { return k == kw } }
	pass(is("vrrp_script"), func(s *Stmt) { t.emitBlock(t.vrrpScript(s)) })
	pass(is("vrrp_instance"), func(s *Stmt) {
		ib := t.vrrpInstance(s)
		t.emitBlock(ib)
		for _, c := range s.Block {
			if c.Keyword() == "lvs_sync_daemon_interface" {
				t.emitBlock(t.syncDaemon(ib, c))
			}
		}
	})
	grouped := map[string]bool{}
	pass(is("vrrp_sync_group"), func(s *Stmt) { t.emitBlock(t.syncGroup(s, grouped)) })
	pass(func(kw string) bool { return kw != "vrrp_script" && kw != "vrrp_instance" && kw != "vrrp_sync_group" }, func(s *Stmt) {
		switch s.Keyword() {
		case "global_defs":
			t.globalDefs(s)
		case "virtual_server":
			t.virtualServer(s)
		case "virtual_server_group":
			// Expanded where it is used; noted below if unused.
		case "track_file", "vrrp_track_file":
			t.topTrackFile(s) // checks.go
		case "SSL":
			t.topSSL(s) // checks.go
		case "static_ipaddress", "static_routes", "static_rules":
			t.static(s) // static.go
		default:
			t.unsupported(nil, s, "the top level", topReasons)
		}
	})
	pass(is("virtual_server_group"), func(s *Stmt) {
		if !t.usedVSG[s.Arg(0)] {
			t.drop(nil, s, Note, "no virtual_server uses virtual_server_group %s", s.Arg(0))
		}
	})
	t.scriptDiags()
	for _, s := range stmts {
		t.items = append(t.items, t.out[s]...)
	}
}

// emit adds a top-level item to the output of the current statement.
func (t *translator) emit(it item) { t.out[t.cur] = append(t.out[t.cur], it) }

func (t *translator) emitBlock(b *hblock) {
	if b != nil {
		t.emit(item{block: b})
	}
}

func (t *translator) globalDefs(s *Stmt) {
	// One comment for the whole block.
	g := newBlock("global_defs")
	for _, c := range s.Block {
		switch c.Keyword() {
		case "script_user", "enable_script_security":
			// Reported once the commands are known (scriptDiags).
		case "lvs_sync_daemon":
			t.emitBlock(t.syncDaemon(g, c))
		case "lvs_timeouts":
			t.lvsTimeouts(g, c) // timeouts.go
		case "vrrp_garp_master_delay", "vrrp_garp_master_repeat", "vrrp_garp_master_refresh", "vrrp_garp_master_refresh_repeat", "vrrp_startup_delay":
			t.globalGARPNote(g, c) // vrrp.go
		case "vrrp_version":
			if t.vrrpVersion == 0 {
				t.drop(g, c, Warning, "vrrp_version must be 2 or 3")
			}
			// Otherwise applied to every vrrp_instance without version.
		default:
			t.unsupported(g, c, "global_defs", globalReasons)
		}
	}
	t.emitAlert(g, s) // alert.go
	if len(g.notes) == 0 {
		return
	}
	c := hcomment{fmt.Sprintf("%s: global_defs", s.Pos)}
	for _, n := range g.notes {
		c = append(c, n...)
	}
	t.emit(item{comment: c})
}

// bashOnly names the constructs of shell text that bash has and dash (and
// POSIX sh) has not, in the order of bashSyntax.
func bashOnly(text string) []string {
	var found []string
	for _, b := range bashSyntax {
		if b.re.MatchString(text) {
			found = append(found, b.name)
		}
	}
	return found
}

var bashSyntax = []struct {
	name string
	re   *regexp.Regexp
}{
	{"/dev/tcp (bash's network redirection)", regexp.MustCompile(`/dev/tcp/`)},
	{"/dev/udp (bash's network redirection)", regexp.MustCompile(`/dev/udp/`)},
	{"[[ ]]", regexp.MustCompile(`(^|[\s;&|(])\[\[\s`)},
	{"a here-string (<<<)", regexp.MustCompile(`<<<`)},
	{"&> redirection", regexp.MustCompile(`&>`)},
	{"$'...' quoting", regexp.MustCompile(`\$'`)},
	{"a brace range {a..b}", regexp.MustCompile(`\{[^{}\s]*\.\.[^{}\s]*\}`)},
	{"process substitution <( )", regexp.MustCompile(`[<>]\(`)},
}
