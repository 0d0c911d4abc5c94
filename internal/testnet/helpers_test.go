package testnet

import (
	"testing"
	"time"

	"github.com/ledger-node/ledger/internal/testproc"
	"github.com/ledger-node/ledger/wallet"
)

// testEnv makes networks quickly and reproducibly: a fixed hash rate (no
// measurement), two cores, a cheap KDF and a fixed clock.
func testEnv() Env {
	return Env{
		Clock:    func() time.Time { return time.Unix(1_800_000_000, 0) },
		HashRate: 1e6,
		Cores:    2,
		KDF:      wallet.KDFParams{LogN: 10, R: 8, P: 1},
	}
}

// freeBasePort finds a base port below the ephemeral range whose n nodes'
// ports (2n from it) are all free on 127.0.0.1 right now.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	base, err := testproc.FreePorts(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// newTestNetwork creates a network of n nodes (m mining) in a new
// temporary directory on free ports.
func newTestNetwork(t *testing.T, n, m int) *Network {
	t.Helper()
	o := DefaultOptions()
	o.Nodes, o.Miners, o.Dir, o.BlockTime, o.BasePort = n, m, t.TempDir(), 2, freeBasePort(t, n)
	net, err := Prepare(o, nil, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// lockedBuffer is a bytes.Buffer for one writer goroutine and a reader.
type lockedBuffer = testproc.Buffer
