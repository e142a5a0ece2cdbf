package hcl_test

import (
	"fmt"
	"os"

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
	// Error: Invalid weight
	//
	//   on lvs.hcl line 7, in virtual_server "web":
	//    7:     weight  = -1
	//
	// weight must be a whole number from 0 to 2147483647; got -1.
}
