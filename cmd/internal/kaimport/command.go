package kaimport

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// keepalived 2.x runs its scripts (vrrp_script's script, MISC_CHECK's
// misc_path, the notify and quorum hooks) without a shell: it splits the
// line again with quotes and backslash escapes, takes the word after the
// keyword as the command line, splits that into the program and its
// arguments with the same rules, and executes it directly.

// splitQuoted splits s as keepalived's alloc_strvec_quoted_escaped: words
// separated by blanks, double or single quotes group (and are removed),
// backslash escapes (\n, \t, \xHH, \ooo, \cX, \C for any other C) work
// everywhere. meta reports a shell operator or expansion character outside
// quotes, which shows that the command was written for a shell.
func splitQuoted(s string) (words []string, meta bool, err error) {
	i := 0
	for {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i >= len(s) {
			return words, meta, nil
		}
		var w strings.Builder
		var quote byte
	word:
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\':
				i++
				if i >= len(s) {
					return nil, meta, errors.New("backslash at the end of the command")
				}
				r, n := unescape(s[i:])
				w.WriteString(r)
				i += n
				continue
			case quote != 0:
				if c == quote {
					quote = 0
				} else {
					w.WriteByte(c)
				}
			case c == '"' || c == '\'':
				quote = c
			case isBlank(c):
				break word
			default:
				if strings.IndexByte("|&;<>()$`", c) >= 0 {
					meta = true
				}
				w.WriteByte(c)
			}
			i++
		}
		if quote != 0 {
			return nil, meta, errors.New("unterminated quote in the command")
		}
		words = append(words, w.String())
	}
}

// unescape decodes the escape after a backslash; it returns the text and
// how many bytes of s it used.
func unescape(s string) (string, int) {
	c := s[0]
	switch {
	case c == 'x' && len(s) > 1 && isHex(s[1]):
		// keepalived takes every hex digit that follows, keeping the low
		// byte.
		var v byte
		n := 1
		for ; n < len(s) && isHex(s[n]); n++ {
			d, _ := strconv.ParseUint(s[n:n+1], 16, 8)
			v = v<<4 | byte(d)
		}
		return string(rune(v)), n
	case c == 'c' && len(s) > 1:
		return string(rune(s[1] & 0x1f)), 2
	case c >= '0' && c <= '7':
		// Up to three octal digits, keeping the low byte.
		v := c - '0'
		n := 1
		for ; n < len(s) && n < 3 && s[n] >= '0' && s[n] <= '7'; n++ {
			v = v<<3 | (s[n] - '0')
		}
		return string(rune(v)), n
	}
	switch c {
	case 'a':
		return "\a", 1
	case 'b':
		return "\b", 1
	case 'E':
		return "\x1b", 1
	case 'f':
		return "\f", 1
	case 'n':
		return "\n", 1
	case 'r':
		return "\r", 1
	case 't':
		return "\t", 1
	case 'v':
		return "\v", 1
	}
	return s[:1], 1
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// command is a keepalived command line turned into an argv.
type command struct {
	// words are the program and its arguments, as keepalived splits them.
	words []string
	// argv is what lvsctl runs: words, or /bin/sh -c and the line
	// keepalived gives the shell.
	argv []string
	// meta is set when shell syntax is outside quotes in the line.
	meta bool
	// extra are the words after the command line: ignored by keepalived
	// for scripts, the user and group of notify hooks.
	extra []string
}

// parseCommand reads the command of statement s ("keyword COMMAND ...").
func parseCommand(s *Stmt) (command, error) {
	words, _, err := splitQuoted(s.Raw)
	if err != nil {
		return command{}, err
	}
	if len(words) < 2 || strings.TrimSpace(words[1]) == "" {
		return command{}, errors.New("the command is missing")
	}
	argv, meta, err := splitQuoted(words[1])
	if err != nil {
		return command{}, err
	}
	if len(argv) == 0 {
		return command{}, errors.New("the command is empty")
	}
	return command{words: argv, argv: argv, meta: meta, extra: words[2:]}, nil
}

// cmdStr is the line keepalived hands to system() when it runs a command
// with a shell (its cmd_str_r): every word in single quotes, except a
// first word that starts with '<' or '>'. keepalived does not escape a
// single quote inside a word.
func cmdStr(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == 0 && (strings.HasPrefix(w, "<") || strings.HasPrefix(w, ">")) {
			b.WriteString(w)
			continue
		}
		b.WriteString("'" + w + "'")
	}
	return b.String()
}

// keepalived's search path for a bare program name is its own PATH;
// under systemd, which sets none in keepalived.service, that is systemd's
// default.
var searchPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// How keepalived 2.2 runs a command (lib/notify.c, check_script_secure and
// system_call_script): a first word that starts with "<" and a path is run
// by system(), that is /bin/sh -c; otherwise the program is looked up (in
// the PATH when it has no '/'), and keepalived disables the command when
// it does not exist or is not executable for the command's user; an
// executable that libmagic does not call an executable (a script without
// a "#!" line) is run by system() too; the rest is executed directly,
// with its words as arguments: no shell, so ';', '|', '$(...)' are plain
// arguments.
type runKind int

const (
	runDirect  runKind = iota // execve: verified, or not checkable
	runShell                  // system(): /bin/sh -c cmdStr
	runUnknown                // the program is not on this machine
	runRefused                // keepalived disables the command
)

// classify says how keepalived runs words, judged from the files of this
// machine (fsys), why, and the program's path on this machine (if found).
func classify(fsys fileSource, words []string) (kind runKind, why, prog string) {
	w0 := words[0]
	if rest, ok := strings.CutPrefix(w0, "<"); ok && strings.HasPrefix(strings.TrimLeft(rest, " \t"), "/") {
		return runShell, fmt.Sprintf("%q starts with '<' and a path (a test that the file opens), which keepalived runs with system()", w0), prog
	}
	prog = w0
	if !strings.Contains(w0, "/") {
		prog = ""
		for _, dir := range searchPath {
			if st, err := fsys.stat(dir + "/" + w0); err == nil && !st.IsDir() {
				prog = dir + "/" + w0
				break
			}
		}
		if prog == "" {
			return runUnknown, fmt.Sprintf("%s is in none of %s on this machine", w0, strings.Join(searchPath, ":")), prog
		}
	}
	st, err := fsys.stat(prog)
	if errors.Is(err, fs.ErrNotExist) {
		return runUnknown, fmt.Sprintf("%s does not exist on this machine", prog), prog
	} else if err != nil {
		return runUnknown, fmt.Sprintf("%s cannot be examined on this machine (%v)", prog, unwrapPath(err)), prog
	}
	if !st.Mode().IsRegular() {
		return runRefused, fmt.Sprintf("%s is not a regular file (mode %v) on this machine", prog, st.Mode()), prog
	}
	if st.Mode().Perm()&0o111 == 0 {
		return runRefused, fmt.Sprintf("%s is not executable (mode %v) on this machine", prog, st.Mode().Perm()), prog
	}
	head, err := fsys.head(prog, 4)
	if err != nil {
		return runUnknown, fmt.Sprintf("%s cannot be read on this machine (%v)", prog, unwrapPath(err)), prog
	}
	if strings.HasPrefix(string(head), "#!") || string(head) == "\x7fELF" {
		return runDirect, "", prog
	}
	return runShell, fmt.Sprintf("%s has no \"#!\" line and is not an ELF binary (on this machine): keepalived built with libmagic runs such a file with system(); "+
		"Debian's keepalived 2.2.7 is built without it: its execve fails (exec format error), the script does not run and keepalived takes that as exit status 0", prog), prog
}

// insecure says why keepalived's check_security refuses to run prog as
// root under enable_script_security: a part of its path not owned by root,
// or writable by a group other than root's or by others (a directory with
// the sticky bit excepted). It is empty when the path is safe, or when
// this machine cannot tell.
func insecure(fsys fileSource, prog string) string {
	p := fsys.realpath(prog)
	if !strings.HasPrefix(p, "/") {
		return ""
	}
	var parts []string
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			parts = append(parts, p[:i])
		}
	}
	parts = append([]string{"/"}, append(parts, p)...)
	for i, part := range parts {
		st, uid, gid, ok := fsys.owner(part)
		if !ok {
			return ""
		}
		m, last := st.Mode(), i == len(parts)-1
		switch {
		case !last && !m.IsDir():
			return fmt.Sprintf("%s is not a directory", part)
		case last && !m.IsRegular():
			return fmt.Sprintf("%s is not a regular file", part)
		case uid != 0:
			return fmt.Sprintf("%s is owned by uid %d, not root", part, uid)
		case (m.IsDir() && m&fs.ModeSticky == 0 || m.IsRegular()) && (gid != 0 && m&0o020 != 0 || m&0o002 != 0):
			return fmt.Sprintf("%s is writable by its group or by others (%v)", part, m)
		}
	}
	return ""
}
