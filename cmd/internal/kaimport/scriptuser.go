package kaimport

import (
	"fmt"
	"strconv"
	"strings"
)

// keepalived runs every script and hook as a user (lib/notify.c): the
// words after a notify hook's command, the "user" of a vrrp_script or
// MISC_CHECK, else global_defs' script_user, else keepalived_script when
// that user exists, else root. lvsctl runs them all as itself (root under
// the packaged unit), so every command keepalived ran as another user is a
// warning at its line: the import never silently turns an unprivileged
// script into a root one.

// runAs is who keepalived runs a command as.
type runAs struct {
	user, group string
	// why says where that comes from, for the messages.
	why string
	// fromScriptUser is set when global_defs' script_user decides it.
	fromScriptUser bool
}

func (a runAs) String() string {
	if a.group != "" {
		return a.user + ":" + a.group
	}
	return a.user
}

func (a runAs) root() bool { return a.user == "" || a.user == "root" || a.user == "0" }

// cmdRef is a translated command and its keepalived user.
type cmdRef struct {
	s  *Stmt
	as runAs
}

// userStmt is the last "user" statement of block parent, or nil.
func userStmt(parent *Stmt) *Stmt {
	var u *Stmt
	for _, c := range parent.Block {
		if c.Keyword() == "user" {
			u = c
		}
	}
	return u
}

// runAs says who keepalived runs command c of statement s as; user is the
// "user" statement of its block, if any.
func (t *translator) runAs(c command, hook bool, user *Stmt) runAs {
	switch {
	case hook && len(c.extra) > 0:
		a := runAs{user: c.extra[0], why: "the words after the command"}
		if len(c.extra) > 1 {
			a.group = c.extra[1]
		}
		return a
	case user != nil && user.Arg(0) != "":
		return runAs{user: user.Arg(0), group: user.Arg(1), why: fmt.Sprintf("user, %s", user.Pos)}
	case t.scriptUser != nil && t.scriptUser.Arg(0) != "":
		return runAs{user: t.scriptUser.Arg(0), group: t.scriptUser.Arg(1), why: fmt.Sprintf("script_user, %s", t.scriptUser.Pos), fromScriptUser: true}
	case t.hasUser("keepalived_script"):
		return runAs{user: "keepalived_script", why: "keepalived's default script user, which exists in this machine's /etc/passwd"}
	}
	return runAs{why: "keepalived's default"}
}

// hasUser reports whether name is in /etc/passwd (of Options.FS, or of
// this machine).
func (t *translator) hasUser(name string) bool {
	if t.passwd == nil {
		t.passwd = map[string]bool{}
		data, _ := t.fs.readFile("/etc/passwd", 16<<20)
		for _, l := range strings.Split(string(data), "\n") {
			if u, _, ok := strings.Cut(l, ":"); ok {
				t.passwd[u] = true
			}
		}
	}
	return t.passwd[name]
}

// userDiag records who keepalived ran command s as, and says what the
// import must tell about it: a user other than root is a warning.
func (t *translator) userDiag(s *Stmt, c command, as runAs) (warn, note string) {
	t.cmds = append(t.cmds, cmdRef{s, as})
	if !as.root() {
		return fmt.Sprintf("keepalived runs this command as user %s (%s); lvsctl runs every command as its own user (root under the packaged unit), "+
			"so it would no longer run unprivileged: run it as %s yourself, for example %s",
			as, as.why, as.user, hclList(append([]string{"/usr/bin/setpriv", "--reuid=" + as.user, "--regid=" + orDefault(as.group, as.user), "--init-groups", "--"}, c.argv...))), ""
	}
	if as.why == "keepalived's default" && !t.defaultNoted {
		t.defaultNoted = true
		return "", "keepalived runs the commands without a user of their own (this one and the others of these files) as user keepalived_script if it exists, else as root; " +
			"this machine's /etc/passwd has no keepalived_script, so the import takes root, as lvsctl runs them: if the director has that user, they ran unprivileged there"
	}
	return "", ""
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// hclList renders words as an HCL list, for messages.
func hclList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// scriptDiags reports script_user and enable_script_security, once every
// command is translated, at their lines.
func (t *translator) scriptDiags() {
	list := func(match func(cmdRef) bool) (int, string) {
		var l []string
		for _, c := range t.cmds {
			if match(c) {
				l = append(l, fmt.Sprintf("%s (%s)", c.s.Pos, c.s.Keyword()))
			}
		}
		return len(l), strings.Join(l, ", ")
	}
	if s := t.scriptUser; s != nil {
		t.cur = t.scriptUserTop
		as := runAs{user: s.Arg(0), group: s.Arg(1)}
		n, l := list(func(c cmdRef) bool { return c.as.fromScriptUser })
		switch {
		case as.root():
			t.comment(nil, s, Note, "keepalived runs the commands without a user of their own as root, as lvsctl does")
		case n == 0:
			t.comment(nil, s, Note, fmt.Sprintf("no command here runs as %s: each has its own user", as))
		default:
			t.comment(nil, s, Warning, fmt.Sprintf("keepalived runs the commands without a user of their own as %s; lvsctl runs them as its own user (root under the packaged unit): %d here: %s", as, n, l))
		}
	}
	if s := t.scriptSecurity; s != nil {
		t.cur = t.scriptSecurityTop
		n, l := list(func(c cmdRef) bool { return c.as.root() })
		msg := "keepalived refuses to run a command as root when its file, or a directory above it, is not owned by root or is writable by its group or by others " +
			"(and, without script_user, refuses every command when user keepalived_script does not exist); lvsctl checks none of this"
		if n > 0 {
			msg += fmt.Sprintf(": check the files of the %d commands that run as root here: %s", n, l)
		}
		t.comment(nil, s, Warning, msg)
	}
}
