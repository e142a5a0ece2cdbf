package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lvsctl/lvsctl/ipvs"
	"github.com/lvsctl/lvsctl/ipvs/ipvsadm"
)

// lister is what `lvsctl list` reads from one namespace's IPVS.
type lister interface {
	// List returns every service in the kernel's order.
	List(ctx context.Context) ([]ipvs.ListedService, error)
	// ListService returns one service; ipvs.ErrNoService if there is none.
	ListService(ctx context.Context, k ipvs.ServiceKey) (ipvs.ListedService, error)
	Info(ctx context.Context) (ipvs.Info, error)
	Timeouts(ctx context.Context) (ipvs.Timeouts, error)
	SyncDaemons(ctx context.Context) ([]ipvs.SyncDaemon, error)
	// ConnTable returns the text of the namespace's /proc/net/ip_vs_conn.
	ConnTable(ctx context.Context) ([]byte, error)
	Close() error
}

// netlinkLister is the real lister: the IPVS netlink family and procfs.
type netlinkLister struct {
	*ipvs.Netlink
	netns string
}

func (l netlinkLister) ConnTable(ctx context.Context) ([]byte, error) {
	return ipvs.ReadConnTable(l.netns)
}

func openNetlinkLister(ctx context.Context, netnsPath string) (lister, error) {
	n, err := ipvs.Open(ctx, netnsPath)
	if err != nil {
		return nil, err
	}
	return netlinkLister{Netlink: n, netns: netnsPath}, nil
}

// listFlags are ipvsadm's listing options, with its names and letters.
type listFlags struct {
	list, listL, save                    bool
	numeric, connection, ipv6            bool
	tcp, udp, sctp, fwmark               string
	stats, rate, thresholds, persistConn bool
	nosort, sort, exact, timeout, daemon bool
	tunInfo                              bool
	output                               string
}

// listKind is what a list command shows.
type listKind int

const (
	listTable listKind = iota
	listOneService
	listRules
	listConns
	listTimeouts
	listDaemons
)

// listRequest is a checked list command line.
type listRequest struct {
	kind    listKind
	opt     ipvsadm.Options
	service ipvs.ServiceKey
	output  string
}

func newListCmd(e *env, g *globals) *cobra.Command {
	f := &listFlags{}
	cmd := &cobra.Command{
		Use:   "list [-L|-l|-S] [options]",
		Short: "Show the kernel's IPVS table exactly as ipvsadm -L / -S does, or as JSON",
		Long: `list prints the IPVS table of this (or --netns) network namespace byte for byte
as ipvsadm 1.31 prints it, with ipvsadm's options and letters, so that
"lvsctl list ARGS" can replace "ipvsadm ARGS" for any listing: -L/-l (the
default), -n, --stats, --rate, --exact (-X), --thresholds, --persistent-conn,
--tun-info, --sort, --nosort, -t|-u|--sctp-service ADDR[:PORT] or -f MARK [-6]
for one service, -c for the connection entries, --timeout, --daemon, and -S
for the rules ipvsadm -R reads back. Short options combine: -Ln, -Lnc, -Sn,
-Lnt 10.0.0.1:80.

Without -n, names come from /etc/hosts and DNS (Go's resolver, as
/etc/nsswitch.conf orders them) and /etc/services, as ipvsadm's do from the
C library; other NSS sources (LDAP, mDNS, systemd's nss-resolve) are not
consulted.

-o json or -o yaml prints the same data in lvsctl's documented schema
(docs/list.md): 64-bit counters as integers, addresses always numeric.`,
		Example: `  lvsctl list -Ln
  lvsctl list -Ln --stats --exact
  lvsctl list -Sn > rules && ipvsadm -R < rules
  lvsctl list -Lnt 10.0.0.1:80 --rate
  lvsctl list -Lnc
  lvsctl list -o json --netns director`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return asIpvsadm(e, ipvsadmFail(2, "unexpected argument %s", args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			resolver := &ipvsadm.SystemResolver{}
			req, err := f.request(cmd, resolver)
			if err != nil {
				return asIpvsadm(e, &exitError{code: 2, err: err})
			}
			if !req.opt.Numeric && req.output == "text" {
				req.opt.Resolver = resolver
			}
			open := e.openLister
			if open == nil {
				open = openNetlinkLister
			}
			l, err := open(cmd.Context(), g.netnsPath())
			if err != nil {
				return err
			}
			defer l.Close()
			return asIpvsadm(e, runList(cmd.Context(), e, l, req))
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.BoolVarP(&f.list, "list", "L", false, "list the table (the default)")
	fl.BoolVarP(&f.listL, "list-l", "l", false, "the same as -L")
	fl.BoolVarP(&f.save, "save", "S", false, "print the rules that ipvsadm -R reads")
	fl.BoolVarP(&f.numeric, "numeric", "n", false, "numeric addresses and ports, no name lookups")
	fl.StringVarP(&f.tcp, "tcp-service", "t", "", "list only the TCP service `ADDR[:PORT]`")
	fl.StringVarP(&f.udp, "udp-service", "u", "", "list only the UDP service `ADDR[:PORT]`")
	fl.StringVar(&f.sctp, "sctp-service", "", "list only the SCTP service `ADDR[:PORT]`")
	fl.StringVarP(&f.fwmark, "fwmark-service", "f", "", "list only the firewall-mark service `MARK`")
	fl.BoolVarP(&f.ipv6, "ipv6", "6", false, "with -f: the IPv6 firewall-mark service")
	fl.BoolVarP(&f.connection, "connection", "c", false, "list the connection entries (/proc/net/ip_vs_conn)")
	fl.BoolVar(&f.stats, "stats", false, "counters: connections, packets and bytes")
	fl.BoolVar(&f.rate, "rate", false, "rates: connections, packets and bytes per second")
	fl.BoolVar(&f.thresholds, "thresholds", false, "upper and lower connection thresholds")
	fl.BoolVar(&f.persistConn, "persistent-conn", false, "persistent connections (with -c: persistence engine data)")
	fl.BoolVar(&f.tunInfo, "tun-info", false, "tunnel type and options of tunnelled real servers")
	fl.BoolVarP(&f.exact, "exact", "X", false, "whole numbers for --stats and --rate (no K, M, G, T)")
	fl.BoolVar(&f.sort, "sort", false, "sort services and real servers (the default)")
	fl.BoolVar(&f.nosort, "nosort", false, "the kernel's order")
	fl.BoolVar(&f.timeout, "timeout", false, "the TCP, TCP FIN and UDP timeouts")
	fl.BoolVar(&f.daemon, "daemon", false, "the connection synchronisation daemons")
	fl.StringVarP(&f.output, "output", "o", "text", "`FORMAT`: text (ipvsadm's), json or yaml")
	_ = fl.MarkHidden("list-l")
	return cmd
}

// request checks the flags the way ipvsadm checks its list and save
// commands, with its messages.
func (f *listFlags) request(cmd *cobra.Command, r ipvsadm.Resolver) (listRequest, error) {
	req := listRequest{output: f.output}
	switch f.output {
	case "text", "json", "yaml":
	default:
		return req, fmt.Errorf("unknown output format %q (want text, json or yaml)", f.output)
	}
	req.opt = ipvsadm.Options{
		Numeric: f.numeric, Exact: f.exact, NoSort: f.nosort,
		Stats: f.stats, Rate: f.rate, Thresholds: f.thresholds,
		PersistentConn: f.persistConn, TunInfo: f.tunInfo,
	}
	changed := cmd.Flags().Changed
	var services []string
	for _, name := range []string{"tcp-service", "udp-service", "sctp-service", "fwmark-service"} {
		if changed(name) {
			services = append(services, name)
		}
	}
	if len(services) > 1 {
		return req, ipvsadmFail(2, "multiple 'service-address' options specified")
	}
	// ipvsadm takes its command from the first option; a second command
	// option is an option it does not know there.
	var commands []string
	cmd.Flags().Visit(func(fl *pflag.Flag) { // in the order given: SortFlags is off
		switch fl.Name {
		case "list", "list-l", "save":
			commands = append(commands, "-"+fl.Shorthand)
		}
	})
	if len(commands) > 1 {
		return req, ipvsadmFail(2, "invalid option `%s'", commands[1])
	}
	if f.save {
		// ipvsadm's save command takes -n and nothing else.
		for _, o := range []struct {
			set  bool
			name string
		}{
			{f.connection, "connection"}, {len(services) > 0, "service-address"},
			{f.timeout, "timeout"}, {f.daemon, "daemon"}, {f.stats, "stats"}, {f.rate, "rate"},
			{f.thresholds, "thresholds"}, {f.persistConn, "persistent-conn"}, {f.nosort, "nosort"},
			{f.exact, "exact"}, {f.tunInfo, "tun-info"},
		} {
			if o.set {
				return req, ipvsadmFail(2, "Illegal '%s' option with the 'save' command", o.name)
			}
		}
		if f.output != "text" {
			return req, errors.New("-S prints ipvsadm rules; for JSON or YAML leave out -S")
		}
		req.kind = listRules
		return req, nil
	}
	// Of -c, a service, --timeout and --daemon, ipvsadm takes one.
	var exclusive []string
	for _, o := range []struct {
		set  bool
		name string
	}{{f.connection, "connection"}, {len(services) > 0, "service-address"}, {f.timeout, "timeout"}, {f.daemon, "daemon"}} {
		if o.set {
			exclusive = append(exclusive, o.name)
		}
	}
	if len(exclusive) > 1 {
		return req, ipvsadmFail(2, "The option '%s' conflicts with the '%s' option in the 'list' command", exclusive[1], exclusive[0])
	}
	if ((f.connection || f.timeout || f.daemon) && (f.stats || f.rate || f.thresholds)) ||
		((f.timeout || f.daemon) && f.persistConn) {
		return req, ipvsadmFail(2, "options conflicts in the list command")
	}
	if f.ipv6 && !changed("fwmark-service") {
		// ipvsadm's text ends in a newline of its own, and fail() adds one.
		return req, ipvsadmFail(2, "-6 used before -f\n")
	}
	switch {
	case f.connection:
		req.kind = listConns
	case len(services) > 0:
		req.kind = listOneService
		var err error
		switch services[0] {
		case "tcp-service":
			req.service, err = ipvsadm.ParseService(f.tcp, ipvs.TCP, r)
		case "udp-service":
			req.service, err = ipvsadm.ParseService(f.udp, ipvs.UDP, r)
		case "sctp-service":
			req.service, err = ipvsadm.ParseService(f.sctp, ipvs.SCTP, r)
		case "fwmark-service":
			var mark uint32
			mark, err = ipvsadm.ParseFWMark(f.fwmark)
			req.service = ipvs.ServiceKey{Family: ipvs.IPv4, FWMark: mark}
			if f.ipv6 {
				req.service.Family = ipvs.IPv6
			}
		}
		if err != nil {
			// ipvsadm's words, without lvsctl's quoting of the argument.
			if services[0] == "fwmark-service" {
				return req, ipvsadmFail(2, "%s", err)
			}
			return req, ipvsadmFail(2, "illegal virtual server address[:port] specified")
		}
	case f.timeout:
		req.kind = listTimeouts
	case f.daemon:
		req.kind = listDaemons
	default:
		req.kind = listTable
	}
	return req, nil
}

func runList(ctx context.Context, e *env, l lister, req listRequest) error {
	out := e.stdout
	if req.output != "text" {
		doc, err := listDocument(ctx, l, req)
		if err != nil {
			return listError(err)
		}
		return writeDocument(out, doc, req.output)
	}
	var err error
	switch req.kind {
	case listTable:
		var info ipvs.Info
		var table []ipvs.ListedService
		if info, err = l.Info(ctx); err == nil {
			if table, err = l.List(ctx); err == nil {
				err = ipvsadm.WriteList(out, info, table, req.opt)
			}
		}
	case listOneService:
		var s ipvs.ListedService
		if s, err = l.ListService(ctx, req.service); err == nil {
			err = ipvsadm.WriteService(out, s, req.opt)
		}
	case listRules:
		var table []ipvs.ListedService
		if table, err = l.List(ctx); err == nil {
			err = ipvsadm.WriteRules(out, table, req.opt)
		}
	case listConns:
		var text []byte
		if text, err = readConns(ctx, l); err == nil {
			err = ipvsadm.WriteConns(out, text, req.opt)
		}
	case listTimeouts:
		var t ipvs.Timeouts
		if t, err = l.Timeouts(ctx); err == nil {
			err = ipvsadm.WriteTimeouts(out, t)
		}
	case listDaemons:
		var d []ipvs.SyncDaemon
		if d, err = l.SyncDaemons(ctx); err == nil {
			err = ipvsadm.WriteDaemons(out, d)
		}
	}
	return listError(err)
}

// readConns reads the connection table, saying what ipvsadm says when
// there is none.
func readConns(ctx context.Context, l lister) ([]byte, error) {
	text, err := l.ConnTable(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &ipvsadmError{code: 1, text: "cannot open file " + ipvs.ConnTableFile, err: err}
	}
	return text, err
}

// listError says what ipvsadm says where a script may look for it.
func listError(err error) error {
	if errors.Is(err, ipvs.ErrNoService) {
		return &ipvsadmError{code: 1, text: "No such service", err: err}
	}
	return err
}

// ipvsadmError is a failure of the list path that ipvsadm reports too: it
// is printed as ipvsadm prints it, the text and a newline on stderr with no
// "lvsctl: " before it, and exits with ipvsadm's status, so that a script
// written against ipvsadm's stderr reads lvsctl's the same.
type ipvsadmError struct {
	code int
	text string
	err  error // the cause, if any, for errors.Is
}

func (e *ipvsadmError) Error() string { return e.text }
func (e *ipvsadmError) Unwrap() error { return e.err }

// ipvsadmFail is ipvsadm's fail(code, format, ...).
func ipvsadmFail(code int, format string, args ...any) error {
	return &ipvsadmError{code: code, text: fmt.Sprintf(format, args...)}
}

// asIpvsadm prints an ipvsadmError in ipvsadm's form and turns it into an
// exit status; other errors pass through to lvsctl's "lvsctl: " form.
func asIpvsadm(e *env, err error) error {
	var ie *ipvsadmError
	if !errors.As(err, &ie) {
		return err
	}
	fmt.Fprintln(e.stderr, ie.text)
	return &exitError{code: ie.code}
}
