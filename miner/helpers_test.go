package miner

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
	"github.com/ledger-node/ledger/mempool"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeClock is the injected clock; tests move it. It starts shortly after
// the test genesis so that generated blocks (10 s apart) are not in the
// future for the chain and the miner's own blocks stay near schedule.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func newFakeClock(g *chaingen.Generator) *fakeClock {
	return &fakeClock{t: time.Unix(int64(g.Params.GenesisTime)+600, 0)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t     testing.TB
	g     *chaingen.Generator
	c     *chain.Chain
	p     *mempool.Pool
	clock *fakeClock
}

func newFixture(t testing.TB, o chaingen.Options) *fixture {
	t.Helper()
	g := chaingen.New(o)
	f := &fixture{t: t, g: g, clock: newFakeClock(g)}
	c, err := chain.Open(chain.Config{Dir: t.TempDir(), Genesis: g.Genesis, Clock: f.clock.Now, Logger: quietLogger(), SkipStateCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f.c = c
	p, err := mempool.New(mempool.Config{Chain: c, Clock: f.clock.Now, Logger: quietLogger(), MaxCount: 1 << 20, MaxBytes: 1 << 28})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	f.p = p
	return f
}

func (f *fixture) newMiner(mod func(*Config)) *Miner {
	f.t.Helper()
	cfg := Config{Chain: f.c, Pool: f.p, Address: chaingen.AddrOf(chaingen.Key("test-miner", 0)), Threads: 1,
		Clock: f.clock.Now, Logger: quietLogger()}
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(m.Stop)
	return m
}

func (f *fixture) tx(from int, nonce uint64, fee types.Amount) *types.Tx {
	return f.g.Transfer(from, f.g.Addrs[(from+1)%len(f.g.Addrs)], types.Coin, fee, nonce)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
