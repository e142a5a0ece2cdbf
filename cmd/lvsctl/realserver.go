package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lvsctl/lvsctl/realserver"
)

const realServerLong = `realserver prepares this host, or the network namespace given with --netns,
to be an IPVS real server behind a director that forwards with DR (direct
routing) or TUN (IP-in-IP), and undoes exactly that again. It replaces the
realserver.sh scripts of LVS guides (ifconfig lo:0 VIP, echo 1 > arp_ignore).

In both modes the director hands over packets still addressed to the VIP, so
this host must own the VIP without ever claiming it on the network:

  dr   each VIP goes on lo as a /32 (IPv4) or /128 (IPv6).
  tun  tunl0, the ipip module's catch-all device, is made to exist (the
       module loaded if needed) and brought up, and each VIP goes on it as a
       /32. IPv6 VIPs in tun mode, and GUE or GRE encapsulation, are not
       supported yet.

For IPv4 VIPs the ARP settings matter. The kernel uses, for each of them,
max(net.ipv4.conf.all.X, net.ipv4.conf.IFACE.X), where IFACE is the interface
the ARP request arrives on (arp_ignore) or is sent from (arp_announce):

  arp_ignore=1    answer ARP only for addresses on the receiving interface,
                  so never for the VIP on lo or tunl0.
  arp_announce=2  never use the VIP as the source of our own ARP requests.

start sets both on "all", which alone covers every interface whose own value
is lower, including interfaces added later. An interface's own value wins
when it is higher, and higher is not stricter here (arp_ignore 3 answers for
any global address, 4-7 and above 8 answer everything; arp_announce above 2
acts as 0), so start also lowers exactly those interfaces. It sets lo (dr) or
tunl0 (tun) as well, as the guides do, although neither does ARP. Values that
already do the job (arp_ignore 2 or 8, say) are left alone.

rp_filter (tun): a decapsulated packet arrives on tunl0 with the client's
address as its source, but the route back to the client leaves through
another interface, so strict reverse-path filtering (rp_filter=1, again
max(all, tunl0)) drops every one of them. start turns 1 into 0 on "all" and
on tunl0; loose mode (2) accepts them and is left alone. IPv6 needs none of
these settings: the kernel answers neighbour solicitations only for addresses
on the receiving interface.

start records every sysctl it writes with the value it found, and every
address and link it adds or brings up, in a state file (one per namespace);
what is already right is not recorded. stop undoes exactly the record: it
removes only the addresses start added, and restores each sysctl to the value
start found unless someone changed it since (that one is left and reported).
A second start changes nothing and says so; stop without start is a no-op.

The VIPs come from --vip (repeatable) with --mode, or from the realserver
block of a configuration file (-f), which lets one file describe the director
and its backends:

  realserver {
    mode = "dr"                # default: the forwarding the file's real servers use
    vips = ["192.168.1.200"]   # default: the VIPs of the services forwarding in that mode
  }`

func newRealServerCmd(e *env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "realserver start|stop|status",
		Short: "Prepare this host as a DR or TUN real server (VIPs, ARP, rp_filter), reversibly",
		Long:  realServerLong,
		Example: `  sudo lvsctl realserver start --vip 192.168.1.200            # dr is the default mode
  sudo lvsctl realserver start --mode tun --vip 192.168.1.100
  sudo lvsctl realserver start -f cluster.hcl                  # the file's realserver block
  lvsctl realserver status                                     # exit 2 if it will not work
  sudo lvsctl realserver stop                                  # undo exactly what start did
  sudo lvsctl realserver start --vip 10.0.0.100 --netns be1    # another network namespace`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&g.stateFile, "state", "", "realserver record `FILE` (default /var/lib/lvsctl/realserver.json, or netns/NAME-realserver.json beside it with --netns)")
	cmd.AddCommand(newRealServerStartCmd(e, g), newRealServerStopCmd(e, g), newRealServerStatusCmd(e, g))
	return cmd
}

// realServerRecord is the record file of the target namespace. --netns NAME
// and --netns /run/netns/NAME share one: they are the same namespace, and
// a stop must find what a start recorded.
func (g *globals) realServerRecord(e *env) realserver.RecordFile {
	if g.stateFile != "" {
		return realserver.RecordFile{Path: g.stateFile}
	}
	if g.netns == "" {
		return realserver.RecordFile{Path: filepath.Join(e.stateDir, "realserver.json")}
	}
	name := g.netns
	if dir, base := filepath.Split(filepath.Clean(name)); dir == "/run/netns/" {
		name = base
	}
	name = strings.Trim(strings.ReplaceAll(name, "/", "_"), "_")
	return realserver.RecordFile{Path: filepath.Join(e.stateDir, "netns", name+"-realserver.json")}
}

// where names the target namespace in messages.
func (g *globals) where() string {
	if g.netns == "" {
		return "this namespace"
	}
	return "namespace " + g.netns
}

// realServerInput is the configuration from flags or a file.
type realServerInput struct {
	file       string
	vips       []string
	mode       string
	tunnel     string
	tunnelPort uint16
}

func (in *realServerInput) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&in.file, "file", "f", "", "take the configuration from the realserver block of `FILE`")
	f.StringArrayVar(&in.vips, "vip", nil, "a virtual IP `ADDR` to accept traffic for (repeatable)")
	f.StringVar(&in.mode, "mode", "dr", "how the director forwards to this host: `dr` or tun")
	f.StringVar(&in.tunnel, "tunnel", "ipip", "tun encapsulation `TYPE`: ipip (tunl0), gue (a fou port feeding tunl0, with --tunnel-port) or gre (gre0)")
	f.Uint16Var(&in.tunnelPort, "tunnel-port", 0, "gue only: the UDP `PORT` the director sends to (its tunnel block's port)")
}

// config returns the configuration, or nil when none was given.
func (in *realServerInput) config(cmd *cobra.Command, e *env, g *globals) (*realserver.Config, error) {
	flagged := cmd.Flags().Changed("vip") || cmd.Flags().Changed("mode") || cmd.Flags().Changed("tunnel") || cmd.Flags().Changed("tunnel-port")
	if in.file != "" {
		if flagged {
			return nil, errors.New("give either -f FILE or --vip/--mode/--tunnel, not both")
		}
		cfg, err := loadConfig(cmd.Context(), in.file, e.stderr, g.configOptions())
		if err != nil {
			return nil, err
		}
		if cfg.RealServer == nil {
			return nil, fmt.Errorf("%s has no realserver block: add one (realserver { mode = \"dr\" } takes the VIPs from the file's dr services), or give --vip", in.file)
		}
		return cfg.RealServer, nil
	}
	if !flagged {
		return nil, nil
	}
	var errs []error
	cfg := &realserver.Config{}
	m, err := realserver.ParseMode(in.mode)
	if err != nil {
		errs = append(errs, fmt.Errorf("--mode: %w", err))
	}
	cfg.Mode = m
	tun, terr := realserver.ParseTunnel(in.tunnel)
	switch {
	case cmd.Flags().Changed("tunnel") && m != realserver.TUN:
		errs = append(errs, errors.New("--tunnel only applies to --mode tun"))
	case terr != nil:
		errs = append(errs, fmt.Errorf("--tunnel: %w", terr))
	case tun == realserver.GUE && in.tunnelPort == 0:
		errs = append(errs, errors.New("--tunnel gue needs --tunnel-port PORT, the UDP port the director sends to (its tunnel block's port)"))
	case tun != realserver.GUE && in.tunnelPort != 0:
		errs = append(errs, errors.New("--tunnel-port only applies to --tunnel gue"))
	case m == realserver.TUN:
		cfg.Tunnel, cfg.GUEPort = tun, in.tunnelPort
	}
	for _, v := range in.vips {
		a, err := netip.ParseAddr(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("--vip %q is not an IP address", v))
			continue
		}
		cfg.VIPs = append(cfg.VIPs, a)
	}
	if len(errs) == 0 {
		if err := cfg.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func describe(cfg realserver.Config) string {
	var vs []string
	for _, v := range cfg.VIPs {
		vs = append(vs, v.String())
	}
	return fmt.Sprintf("%s real server for %s", cfg.Mode, strings.Join(vs, ", "))
}

func newRealServerStartCmd(e *env, g *globals) *cobra.Command {
	var in realServerInput
	cmd := &cobra.Command{
		Use:   "start (--vip ADDR... [--mode dr|tun] | -f FILE)",
		Short: "Put the VIPs on lo or tunl0 and set the ARP and rp_filter sysctls, recording what changed",
		Long: `start converges this host (or the --netns namespace) to the configuration:
sysctls first, then tunl0 up, then the VIPs, so that a VIP is never up while
the host would still answer ARP for it. Each change is printed and recorded;
a second start prints "No changes". If a step fails, the changes of that run
are undone. See "lvsctl realserver --help" for which settings and why.`,
		Example: `  sudo lvsctl realserver start --vip 192.168.1.200 --vip 2001:db8::200
  sudo lvsctl realserver start --mode tun --vip 192.168.1.100
  sudo lvsctl realserver start -f cluster.hcl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := in.config(cmd, e, g)
			if err != nil {
				return err
			}
			if cfg == nil {
				return errors.New("nothing to start: give --vip ADDR (and --mode tun for tunnelling) or -f FILE with a realserver block")
			}
			rf := g.realServerRecord(e)
			unlock, err := lockState(rf.Path)
			if err != nil {
				return err
			}
			defer unlock()
			rec, err := rf.Load()
			if err != nil {
				return err
			}
			sys, err := realserver.Open(g.netnsPath())
			if err != nil {
				return err
			}
			defer sys.Close()
			newRec, res, err := realserver.Start(sys, *cfg, rec)
			printResult(e.stdout, res)
			if serr := rf.Save(newRec); serr != nil {
				return errors.Join(err, fmt.Errorf("save the record %s: %w", rf.Path, serr))
			}
			if err != nil {
				return err
			}
			if len(res.Changes) == 0 {
				fmt.Fprintf(e.stdout, "No changes: %s is already prepared as a %s.\n", g.where(), describe(*cfg))
				return nil
			}
			fmt.Fprintf(e.stdout, "Started: %s, %s as a %s (recorded in %s; stop undoes it).\n",
				plural(len(res.Changes), "change"), g.where(), describe(*cfg), rf.Path)
			return nil
		},
	}
	in.register(cmd)
	return cmd
}

func newRealServerStopCmd(e *env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Undo what start did: remove the VIPs it added, restore the sysctls it changed",
		Long: `stop undoes the record of start, newest first: the addresses start added
(those that were already there stay), then every sysctl back to the value
start found (unless it was changed since; that one is left and reported),
then tunl0 down (or deleted, if start created it). The ipip module stays
loaded. Without a record there is nothing to do, and stop says so.`,
		Example: `  sudo lvsctl realserver stop
  sudo lvsctl realserver stop --netns be1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rf := g.realServerRecord(e)
			unlock, err := lockState(rf.Path)
			if err != nil {
				return err
			}
			defer unlock()
			rec, err := rf.Load()
			if err != nil {
				return err
			}
			if rec == nil {
				fmt.Fprintf(e.stdout, "Nothing to stop: no realserver record for %s (%s); start has not run, or stop already undid it.\n", g.where(), rf.Path)
				return nil
			}
			sys, err := realserver.Open(g.netnsPath())
			if err != nil {
				return err
			}
			defer sys.Close()
			left, res, err := realserver.Stop(sys, rec)
			printResult(e.stdout, res)
			if serr := rf.Save(left); serr != nil {
				return errors.Join(err, fmt.Errorf("save the record %s: %w", rf.Path, serr))
			}
			if err != nil {
				return fmt.Errorf("%w (what could not be undone stays in %s; run stop again)", err, rf.Path)
			}
			fmt.Fprintf(e.stdout, "Stopped: %s undone in %s.\n", plural(len(res.Changes), "change"), g.where())
			return nil
		},
	}
	return cmd
}

func newRealServerStatusCmd(e *env, g *globals) *cobra.Command {
	var in realServerInput
	var output string
	cmd := &cobra.Command{
		Use:   "status [--vip ADDR... --mode dr|tun | -f FILE] [-o json]",
		Short: "Show the real server setup and what will keep it from working",
		Long: `status checks this host (or the --netns namespace) against the configuration
that start recorded, or against --vip/--mode or -f FILE (to check a setup made
by other means). It shows where the VIPs are, the ARP and rp_filter sysctls
with the value the kernel actually uses (max of "all" and the interface), and
lists the problems that will keep it from working: a VIP missing or with a
wider prefix, a VIP also on a real interface (which then answers ARP for it),
arp_ignore or arp_announce wrong on an interface that does ARP, tunl0 missing
or down, strict rp_filter on tunl0.

Exit status: 0 when it will work, 2 when there are problems (or nothing is
configured), 1 on error.`,
		Example: `  lvsctl realserver status
  lvsctl realserver status --vip 192.168.1.200 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			cfg, err := in.config(cmd, e, g)
			if err != nil {
				return err
			}
			rf := g.realServerRecord(e)
			rec, err := rf.Load()
			if err != nil {
				return err
			}
			if cfg == nil && rec == nil {
				if output == "json" {
					if err := writeJSON(e.stdout, notStartedJSON{Namespace: g.netnsPath(), Record: rf.Path, Problems: []realserver.Problem{{Code: "not-started", Message: "no realserver record and no configuration given"}}}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(e.stdout, "Not started: no realserver record for %s (%s). Give --vip/--mode or -f FILE to check a setup made by other means.\n", g.where(), rf.Path)
				}
				return &exitError{code: 2}
			}
			if cfg == nil {
				cfg = &rec.Config
			}
			sys, err := realserver.Open(g.netnsPath())
			if err != nil {
				return err
			}
			defer sys.Close()
			st, err := realserver.Inspect(sys, *cfg, rec)
			if err != nil {
				return err
			}
			if output == "json" {
				if err := writeJSON(e.stdout, statusJSON{Namespace: g.netnsPath(), Record: rf.Path, Status: st}); err != nil {
					return err
				}
			} else {
				printStatus(e.stdout, g, rf.Path, *cfg, st)
			}
			if len(st.Problems) > 0 {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text or json")
	return cmd
}

// statusJSON is status -o json: the namespace ("" is the caller's own),
// the record file, and the realserver.Status fields.
type statusJSON struct {
	Namespace string `json:"namespace"`
	Record    string `json:"record"`
	*realserver.Status
}

type notStartedJSON struct {
	Namespace string               `json:"namespace"`
	Record    string               `json:"record"`
	Started   bool                 `json:"started"`
	Problems  []realserver.Problem `json:"problems"`
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func printResult(w io.Writer, res *realserver.Result) {
	if res == nil {
		return
	}
	for _, c := range res.Changes {
		fmt.Fprintln(w, c.String())
	}
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
}

func printStatus(w io.Writer, g *globals, record string, cfg realserver.Config, st *realserver.Status) {
	started := "not started by lvsctl (no record at " + record + ")"
	if st.Started {
		started = "started by lvsctl (record " + record + ")"
	}
	fmt.Fprintf(w, "Real server (%s) in %s: %s\n", cfg.Mode, g.where(), started)
	dev := st.Device
	switch {
	case !st.DeviceExists:
		dev += " (missing)"
	case !st.DeviceUp:
		dev += " (down)"
	}
	fmt.Fprintf(w, "VIPs on %s:\n", dev)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range st.VIPs {
		addr, state := v.Addr.String(), "MISSING"
		if v.OnDevice != nil {
			addr, state = v.OnDevice.String(), "not added by lvsctl (stop leaves it)"
			if v.Added {
				state = "added by lvsctl"
			}
		}
		if len(v.AlsoOn) > 0 {
			state += ", also on " + strings.Join(v.AlsoOn, ", ")
		}
		fmt.Fprintf(tw, "  %s\t%s\n", addr, state)
	}
	tw.Flush()
	if len(st.Sysctls) > 0 {
		fmt.Fprintln(w, "Sysctls (the kernel uses max(all, interface)):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range st.Sysctls {
			extra := ""
			if s.Effective != nil && fmt.Sprint(*s.Effective) != s.Value {
				extra = fmt.Sprintf("effective %d", *s.Effective)
			}
			if s.Previous != nil {
				extra = strings.TrimSpace(extra + fmt.Sprintf("  (set by lvsctl; was %s)", *s.Previous))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Key, s.Value, extra)
		}
		tw.Flush()
	}
	for _, n := range st.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	if len(st.Problems) == 0 {
		fmt.Fprintf(w, "OK: %s is ready as a %s.\n", g.where(), describe(cfg))
		return
	}
	fmt.Fprintf(w, "%s: this real server will not work as configured:\n", plural(len(st.Problems), "problem"))
	for _, p := range st.Problems {
		fmt.Fprintf(w, "  %s: %s\n", p.Code, p.Message)
	}
}
