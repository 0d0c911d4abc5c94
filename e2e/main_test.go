package e2e

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/ledger-node/ledger/internal/testproc"
)

// bins holds the binaries TestMain built, by name: "ledgerd", "ledger".
var bins map[string]string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// Every test skips itself: nothing to build.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ledger-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	bins, err = testproc.Build(dir, "../cmd/ledgerd", "../cmd/ledger")
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// skipShort skips a scenario in -short mode: CI's full pass runs it.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end scenario: runs real processes for minutes; runs in the full (non-short) pass")
	}
}
