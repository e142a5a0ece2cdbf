package hcl_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lvsctl/lvsctl/checker"
	lvshcl "github.com/lvsctl/lvsctl/hcl"
)

func ExampleParse() {
	src := `
virtual_server "mycat" {
  address    = "192.168.1.200"
  port       = 8066
  scheduler  = "rr"
  forwarding = "dr"

  real_server {
    address = "192.168.1.201"
    weight  = 3
  }
  real_server {
    address = "192.168.1.202"
    weight  = 3
  }
}
`
	cfg, files, diags := lvshcl.Parse([]byte(src), "lvs.hcl")
	if diags.HasErrors() {
		_ = lvshcl.WriteDiagnostics(os.Stdout, files, diags)
		return
	}
	for _, s := range cfg.Services {
		fmt.Printf("%s: %s scheduler %s\n", s.Name, s.Key, s.Scheduler)
		for _, r := range s.RealServers {
			fmt.Printf("  -> %s %s weight %d\n", r.Key(), r.Forwarding, r.Weight)
		}
	}
	// Output:
	// mycat: TCP 192.168.1.200:8066 scheduler rr
	//   -> 192.168.1.201:8066 dr weight 3
	//   -> 192.168.1.202:8066 dr weight 3
}

func ExampleWriteDiagnostics() {
	src := `
virtual_server "web" {
  address = "192.0.2.10"
  port    = 80
  real_server {
    address = "10.0.0.1"
    weight  = -1
  }
}
`
	_, files, diags := lvshcl.Parse([]byte(src), "lvs.hcl")
	_ = lvshcl.WriteDiagnostics(os.Stdout, files, diags)
	// Output:
	// lvs.hcl:7:15: Error: Invalid weight
	//   weight must be a whole number from 0 to 2147483647; got -1.
	//   in virtual_server "web":
	//     7 |     weight  = -1
	//       |               ^^
}

// Health checks and pool policy, for `lvsctl run`: the virtual_server's
// check and timing are the defaults of its real servers.
func ExampleParse_healthChecks() {
	src := `
virtual_server "web" {
  address            = "192.0.2.10"
  port               = 80
  delay_loop         = 2     # seconds, or "2s"
  inhibit_on_failure = true
  quorum             = 2
  quorum_down        = ["/usr/local/bin/alert", "web lost its quorum"]

  sorry_server { address = "10.0.0.99" }

  check "http" {
    url {
      path   = "/healthz"
      status = "200-299,301"
    }
  }

  real_server { address = "10.0.0.1" }
  real_server {
    address = "10.0.0.2"
    check "tcp" { connect_timeout = "500ms" }
  }
  real_server {
    address = "10.0.0.3"
    check "exec" { command = ["/usr/local/bin/check-web", "--quick"] }
  }
}
`
	cfg, files, diags := lvshcl.Parse([]byte(src), "lvs.hcl")
	if diags.HasErrors() {
		_ = lvshcl.WriteDiagnostics(os.Stdout, files, diags)
		return
	}
	for _, p := range cfg.Pools {
		fmt.Printf("%s: inhibit %t, quorum %d (down: %q), sorry server %s\n",
			p.Name, p.InhibitOnFailure, p.Quorum, p.QuorumDown.Argv, p.SorryServer.Key())
		for _, m := range p.Members {
			c := m.Check
			switch pr := c.Prober.(type) {
			case *checker.HTTP:
				fmt.Printf("  %s: http %s %v every %s, timeout %s\n", m.Real, pr.URLs[0].Path, pr.URLs[0].Status, c.Timing.DelayLoop, pr.Timeout)
			case *checker.TCP:
				fmt.Printf("  %s: tcp every %s, timeout %s\n", m.Real, c.Timing.DelayLoop, pr.Timeout)
			case *checker.Exec:
				fmt.Printf("  %s: exec %q every %s, retry %d\n", m.Real, pr.Argv, c.Timing.DelayLoop, c.Timing.Retry)
			}
		}
	}
	// Output:
	// web: inhibit true, quorum 2 (down: ["/usr/local/bin/alert" "web lost its quorum"]), sorry server 10.0.0.99:80
	//   10.0.0.1:80: http /healthz [200-299 301] every 2s, timeout 5s
	//   10.0.0.2:80: tcp every 2s, timeout 500ms
	//   10.0.0.3:80: exec ["/usr/local/bin/check-web" "--quick"] every 2s, retry 0
}

// Secrets never show in a snippet, whatever the error; max caps the
// diagnostics printed.
func ExampleRenderDiagnostics() {
	src := `
virtual_server "db" {
  address = "192.0.2.10"
  port    = 3306
  check "mysql" { password = "s3cret" }
  real_server { weight = -1 }
}
`
	_, files, diags := lvshcl.Parse([]byte(src), "lvs.hcl")
	_ = lvshcl.RenderDiagnostics(context.Background(), os.Stdout, files, diags, 1)
	// Output:
	// lvs.hcl:5:3: Error: Missing user
	//   A mysql check needs user, the account it logs in as, and usually password_file: user = "monitor". The account needs no privilege for the query SELECT 1 and read_only; replication_running and max_replication_lag need REPLICATION CLIENT (MySQL) or SLAVE MONITOR (MariaDB 10.5 and later).
	//   in virtual_server "db":
	//     5 |   check "mysql" { password = *** }
	//       |   ^^^^^^^^^^^^^
	//
	// ... and 2 more errors
}
