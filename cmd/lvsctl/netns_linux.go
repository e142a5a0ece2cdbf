package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// enteredEnv marks a process that reexecInNetns already moved.
const enteredEnv = "LVSCTL_ENTERED_NETNS"

// reexecInNetns makes the whole process live in the network namespace at
// path, so that everything it does (health checks, hooks, sysctls) happens
// there. A Go process cannot move all its threads, so it enters the
// namespace on one locked thread and re-executes itself from it: execve
// keeps that thread's namespace and the process's PID. It returns nil
// without doing anything in the re-executed process, and does not return on
// success otherwise.
func reexecInNetns(path string) error {
	if os.Getenv(enteredEnv) == path {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	defer f.Close()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("re-execute in network namespace %s: %w", path, err)
	}
	runtime.LockOSThread() // never unlocked: this thread leaves our namespace
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	env := append(os.Environ(), enteredEnv+"="+path)
	err = syscall.Exec(self, os.Args, env)
	return fmt.Errorf("re-execute in network namespace %s: %w", path, err)
}
