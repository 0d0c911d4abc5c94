// Command ledgerd is the ledger's full node. With no arguments it runs a
// node of the default network (the embedded genesis.json) with its data in
// ~/.ledger. See README.md for the flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go handleStopSignals(signals, time.Now, stop, os.Exit, os.Stderr)
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerd:", err)
		os.Exit(1)
	}
}

// repeatWindow is how long after the first stop signal another one is
// taken as the same request. A supervisor such as coreutils timeout
// signals its child and then its own process group, so the node gets two
// signals microseconds apart from one request to stop; a person who means
// "now" presses Ctrl-C again later than that.
const repeatWindow = time.Second

// stopAction is what a stop signal asks for.
type stopAction int

const (
	// stopCleanly: the first signal; shut down in order.
	stopCleanly stopAction = iota
	// stopIgnore: a repeat within repeatWindow of the first.
	stopIgnore
	// stopAtOnce: a later signal; exit without waiting for the shutdown.
	stopAtOnce
)

// stopRequests decides what each stop signal asks for. The zero value has
// seen no signal. It is owned by the one goroutine that reads the signals.
type stopRequests struct {
	first time.Time // when the first signal came; zero before it
}

// next records a signal that came at now and says what to do.
func (r *stopRequests) next(now time.Time) stopAction {
	switch {
	case r.first.IsZero():
		r.first = now
		return stopCleanly
	case now.Sub(r.first) < repeatWindow:
		return stopIgnore
	}
	return stopAtOnce
}

// handleStopSignals reads signals until the channel is closed: the first
// calls stop, a repeat within repeatWindow is ignored, a later one calls
// exit(130). now, exit and log are the process's clock, os.Exit and
// stderr, replaced in tests.
func handleStopSignals(signals <-chan os.Signal, now func() time.Time, stop func(), exit func(int), log io.Writer) {
	var requests stopRequests
	for range signals {
		switch requests.next(now()) {
		case stopCleanly:
			fmt.Fprintln(log, "shutting down (signal again to exit at once)")
			stop()
		case stopIgnore:
			fmt.Fprintf(log, "signal repeated within %v: still shutting down (signal again later to exit at once)\n", repeatWindow)
		case stopAtOnce:
			// The database is consistent at every batch, so exiting at
			// once loses at most the block being written.
			exit(130)
			return
		}
	}
}
