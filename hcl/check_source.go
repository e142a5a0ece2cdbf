package hcl

import (
	"math"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
)

// bind_port and bind_if of tcp, http and https checks (keepalived's names):
// the source port of the check's connections and the interface they are
// bound to (SO_BINDTODEVICE).
//
//	check "tcp" {
//	  bind_to   = "10.0.0.5"
//	  bind_port = 40000
//	  bind_if   = "eth1"
//	}

var sourceAttributes = []hcl.AttributeSchema{
	{Name: "bind_port"},
	{Name: "bind_if"},
}

// source builds bind_port and bind_if.
func (b *builder) source(c *checkSyntax) checker.Source {
	var s checker.Source
	if c.BindPort != nil {
		port, _ := b.whole(c.BindPort, 1, math.MaxUint16, "Invalid bind_port", "bind_port")
		s.Port = uint16(port)
	}
	if c.BindIf.ok() {
		name := c.BindIf.Val
		if name == "" || len(name) > maxInterfaceName || name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n") {
			b.errorAt(c.BindIf.Value, nil, "Invalid interface name",
				"bind_if %q is not a Linux interface name: 1 to 15 characters, without \"/\", \":\" or spaces.", name)
		} else {
			s.Interface = name
		}
	}
	return s
}
