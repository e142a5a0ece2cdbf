package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// setupCompletion adds cobra's `completion bash|zsh|fish|powershell`
// command to root (now rather than at Execute, so that help and the man
// pages list it) and completes flag values: configuration files (*.hcl),
// namespaces (/run/netns), and the fixed choices of --log-format,
// --log-level and -o.
func setupCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Long += `
Install, for example:

  lvsctl completion bash > /etc/bash_completion.d/lvsctl
  lvsctl completion zsh  > "${fpath[1]}/_lvsctl"
  lvsctl completion fish > ~/.config/fish/completions/lvsctl.fish`
	}
	_ = root.RegisterFlagCompletionFunc("netns", completeNetns)
	choices := func(vals ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp)
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("file") != nil {
			_ = c.MarkFlagFilename("file", "hcl")
		}
		if c.Flags().Lookup("log-format") != nil {
			_ = c.RegisterFlagCompletionFunc("log-format", choices("text", "json"))
		}
		if c.Flags().Lookup("log-level") != nil {
			_ = c.RegisterFlagCompletionFunc("log-level", choices("debug", "info", "warn", "error"))
		}
		if f := c.Flags().Lookup("output"); f != nil {
			if strings.Contains(f.Usage, "yaml") {
				_ = c.RegisterFlagCompletionFunc("output", choices("text", "json", "yaml"))
			} else {
				_ = c.RegisterFlagCompletionFunc("output", choices("text", "json"))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeNetns offers the named namespaces of /run/netns.
func completeNetns(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	entries, _ := os.ReadDir("/run/netns")
	var out []cobra.Completion
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
