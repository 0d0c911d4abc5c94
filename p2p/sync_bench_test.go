package p2p

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// BenchmarkSync measures block sync between two nodes on loopback: a
// source holding a pre-built chain of LEDGER_SYNC_BENCH_BLOCKS blocks
// (default 2,000) of LEDGER_SYNC_BENCH_TXS transfers each (default 500),
// every transfer signed by a different key, and a fresh node that syncs
// it and verifies every signature cold. Generating and signing the chain,
// and loading it into the source (with its signature cache pre-filled:
// those are our own transactions), happen before the timer starts.
//
// Metrics: blocks/s and tx/s of the sync, and vs-connect, the sync's tx/s
// over the rate at which one node connects the first 40 of the same blocks
// with cold signatures from memory into a fresh store, measured in the same
// run (before and after the sync; the mean): the share of the local
// validation rate that sync achieves. Quick run:
//
//	LEDGER_SYNC_BENCH_BLOCKS=200 go test ./p2p -run '^$' -bench Sync -benchtime 1x
func BenchmarkSync(b *testing.B) {
	nBlocks := benchEnv("LEDGER_SYNC_BENCH_BLOCKS", 2000)
	nTxs := benchEnv("LEDGER_SYNC_BENCH_TXS", 500)
	g, blocks := syncBenchChain(b, nBlocks, nTxs)
	tip := blocks[len(blocks)-1].Hash()

	sample := blocks[:min(40, len(blocks))]
	connectBefore := coldConnectRate(b, g, sample, nTxs)

	dir := b.TempDir()
	c, err := chain.Open(chain.Config{Dir: dir + "/chaindata", Genesis: g.Genesis, Logger: testLogger(), SkipStateCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, blk := range blocks {
		for _, tx := range blk.Txs[1:] {
			c.SigCache().Add(tx.Hash())
		}
		if _, err := c.ProcessBlock(blk); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	src := newTestNode(b, g, nodeOpts{dir: dir})
	if src.chain.Tip().Hash != tip {
		b.Fatal("source did not load the chain")
	}

	runtime.GC()
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := newTestNode(b, g, nodeOpts{})
		b.StartTimer()
		start := time.Now()
		connectTo(b, dst, src.addr())
		waitFor(b, time.Hour, "the node to sync", func() bool { return dst.chain.Tip().Hash == tip })
		elapsed += time.Since(start)
		b.StopTimer()
		if dst.chain.Tip().StateRoot != blocks[len(blocks)-1].Header.StateRoot {
			b.Fatal("synced state differs")
		}
		dst.stop()
		b.StartTimer()
	}
	b.StopTimer()
	// The machine is shared: measure the baseline on both sides of the
	// sync and compare with the mean.
	connectAfter := coldConnectRate(b, g, sample, nTxs)
	connectRate := (connectBefore + connectAfter) / 2
	b.Logf("cold connect: %.0f tx/s before the sync, %.0f after", connectBefore, connectAfter)
	secs := elapsed.Seconds()
	blocksPerSec := float64(b.N*nBlocks) / secs
	txPerSec := float64(b.N*nBlocks*nTxs) / secs
	b.ReportMetric(blocksPerSec, "blocks/s")
	b.ReportMetric(txPerSec, "tx/s")
	b.ReportMetric(connectRate, "connect-tx/s")
	b.ReportMetric(txPerSec/connectRate, "vs-connect")
}

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// coldConnectRate connects blocks into a fresh store with an empty
// signature cache and returns transfers per second.
func coldConnectRate(b *testing.B, g *chaingen.Generator, blocks []*types.Block, nTxs int) float64 {
	b.Helper()
	c, err := chain.Open(chain.Config{Dir: b.TempDir(), Genesis: g.Genesis, Logger: testLogger(), SkipStateCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	runtime.GC()
	start := time.Now()
	for _, blk := range blocks {
		if _, err := c.ProcessBlock(blk); err != nil {
			b.Fatal(err)
		}
	}
	return float64(len(blocks)*nTxs) / time.Since(start).Seconds()
}

var syncBenchCache struct {
	sync.Mutex
	key    [2]int
	g      *chaingen.Generator
	blocks []*types.Block
}

// syncBenchChain builds nBlocks blocks of nTxs transfers, each from its own
// key (key s sends its i-th transfer in block i), signing on every core.
// The chain is kept for the benchmark's later rounds.
func syncBenchChain(b *testing.B, nBlocks, nTxs int) (*chaingen.Generator, []*types.Block) {
	b.Helper()
	syncBenchCache.Lock()
	defer syncBenchCache.Unlock()
	if syncBenchCache.key == [2]int{nBlocks, nTxs} {
		return syncBenchCache.g, syncBenchCache.blocks
	}
	start := time.Now()
	g := chaingen.New(chaingen.Options{Accounts: nTxs, MaxBlockTxs: uint32(nTxs + 1)})
	txs := make([][]*types.Tx, nBlocks)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < nBlocks; i += workers {
				txs[i] = make([]*types.Tx, nTxs)
				for s := range txs[i] {
					txs[i][s] = g.Transfer(s, g.Addrs[(s+1)%nTxs], types.Amount(1+i%7), 1, uint64(i))
				}
			}
		}()
	}
	wg.Wait()
	blocks := make([]*types.Block, 0, nBlocks)
	parent := g.Genesis.Hash
	for i := 0; i < nBlocks; i++ {
		blk := g.MustBlock(parent, txs[i])
		blocks = append(blocks, blk)
		parent = blk.Hash()
	}
	b.Logf("generated %d blocks of %d transfers in %v", nBlocks, nTxs, time.Since(start).Round(time.Second))
	syncBenchCache.key, syncBenchCache.g, syncBenchCache.blocks = [2]int{nBlocks, nTxs}, g, blocks
	return g, blocks
}
