// Package kaimport reads keepalived's configuration language and
// translates it into lvsctl's HCL: `lvsctl import keepalived`.
//
// The reader follows keepalived 2.2's: one statement per line, '!' and '#'
// comments, double-quoted strings, blocks in braces (a brace also ends a
// line), include with globs relative to the including file, $NAME=value
// parameters (and their multi-line form, continued with '\'), and
// conditional "@ID" lines. Syntax errors are ParseErrors with file:line.
// It reads regular files only, within Limits (file size, total size, files
// read, include depth), each an error at the include that passes it; a
// line whose keyword keepalived does not know is reported and commented
// out without its text, since an include may name a file that is not
// keepalived's (/etc/shadow). Everything is read from the host, or from
// Options.FS (the tests and the fuzzer).
//
// Commands are translated as keepalived 2.2 runs them (lib/notify.c):
// split into words and executed directly, unless keepalived itself uses
// a shell (a "</path" test, an executable without "#!"), which is judged
// from the files of the importing machine. A command keepalived ran as a
// user other than root (script_user, user, a hook's words,
// keepalived_script) is a Warning: lvsctl runs commands as itself.
//
// The translation covers virtual_server (with virtual_server_group
// expanded into one virtual_server per member), real_server, sorry_server,
// the TCP_CHECK, HTTP_GET, SSL_GET and MISC_CHECK checkers, and
// vrrp_script, vrrp_instance and vrrp_sync_group. Nothing is dropped
// silently: a keyword without an lvsctl equivalent is commented out in the
// output with its file:line and the reason, and reported as a Diag: a
// Warning when the output does less than keepalived did (the import is
// then incomplete), a Note when lvsctl behaves that way anyway. The output
// is formatted with hclwrite and always loads with lvsctl's hcl package:
// a block it would reject is commented out, with lvsctl's reason.
// docs/import.md describes the mapping.
package kaimport
