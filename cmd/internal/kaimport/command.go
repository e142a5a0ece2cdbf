package kaimport

import (
	"errors"
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
		n := 1
		for n < len(s) && isHex(s[n]) && n < 3 {
			n++
		}
		v, _ := strconv.ParseUint(s[1:n], 16, 8)
		return string(rune(byte(v))), n
	case c == 'c' && len(s) > 1:
		return string(rune(s[1] & 0x1f)), 2
	case c >= '0' && c <= '7':
		n := 1
		for n < len(s) && n < 3 && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(s[:n], 8, 8)
		return string(rune(byte(v))), n
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
	argv []string
	// shell is set when the line needs a shell (argv is /bin/sh -c LINE).
	shell bool
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
	line := words[1]
	argv, meta, err := splitQuoted(line)
	if err != nil {
		return command{}, err
	}
	if len(argv) == 0 {
		return command{}, errors.New("the command is empty")
	}
	c := command{argv: argv, extra: words[2:]}
	if meta {
		c.argv, c.shell = []string{"/bin/sh", "-c", line}, true
	}
	return c, nil
}
