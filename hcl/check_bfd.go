package hcl

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/checker"
)

// This file is the bfd check, keepalived's BFD_CHECK, which lvsctl
// cannot run:
//
//	check "bfd" { name }
//
// lvsctl runs no BFD session (keepalived's bfd_instance), and no
// maintained Go BFD library exists to build one on. The import writes
// keepalived's BFD_CHECK as this check so that the gap stays visible: every
// load (validate, plan, apply, run and its reloads) warns about it. The
// check is always up, so the real server's other checks decide.

var bfdAttributes = []hcl.AttributeSchema{
	{Name: "name"},
}

func decodeBFDCheck(d *decoder, a hcl.Attributes) any {
	return decodeString(d, a["name"])
}

// notRun is the prober of a check lvsctl cannot run: always up.
type notRun struct{ What string }

func (p notRun) Probe(context.Context, checker.Target) checker.Result {
	return checker.Result{Up: true, Weight: checker.NoWeight, Reason: "not run: lvsctl has no " + p.What}
}

func buildBFDCheck(b *builder, c *checkSyntax, _ *builtCheck, _ time.Duration) checker.Prober {
	b.diags = append(b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "BFD check not run",
		Detail: "lvsctl runs no BFD session (keepalived's bfd_instance and BFD_CHECK; no maintained Go BFD library exists to build one on): " +
			"this check is always up, and the real server is checked only by its other checks. " +
			"Check it with check \"ping\" for reachability, or with a check of its service.",
		Subject: c.DefRange.Ptr(),
	})
	return notRun{What: "BFD"}
}
