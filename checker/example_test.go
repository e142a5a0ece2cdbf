package checker_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/lvsctl/lvsctl/checker"
)

// A pool checking one real server over TCP: it comes up at its first
// successful check (alpha), and goes down when it stops accepting
// connections, after one retry.
func Example() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	timing := checker.DefaultTiming()
	timing.DelayLoop = 50 * time.Millisecond
	timing.DelayBeforeRetry = 10 * time.Millisecond
	timing.Warmup = 0
	timing.Alpha = true

	pool := checker.NewPool(checker.Options{})
	target := checker.Target{Service: "web", Addr: ln.Addr().(*net.TCPAddr).AddrPort()}
	err := pool.Set([]checker.Spec{{
		Target: target,
		Prober: &checker.TCP{Timeout: time.Second},
		Timing: timing,
	}})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go pool.Run(ctx)

	for ev := range pool.Events() {
		state := "down"
		if ev.Up {
			state = "up"
		}
		fmt.Printf("%s: %s\n", state, ev.Reason)
		if ev.Up {
			ln.Close() // the server dies
		} else {
			stop()
		}
	}
	st := pool.Status()[0]
	fmt.Println("up:", st.Up, "checked:", st.Checked, "reason:", st.Reason)
	// Output:
	// up: connected
	// down: connect: connection refused
	// up: false checked: true reason: connect: connection refused
}
