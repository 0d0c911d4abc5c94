package mempool

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// verifyRate measures single-core raw ECDSA verification with a parsed
// key and signature: the bound that admission cannot beat.
//
// wall is verifications per second of elapsed time, cpu per second of
// process CPU time; each the best of three rounds.
func verifyRate(b *testing.B, g *chaingen.Generator) (wall, cpu float64) {
	tx := g.Transfer(0, g.Addrs[1], 1, 1000, 0)
	sig, err := types.ParseSignature(&tx.Sig)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := secp256k1.ParsePubKey(tx.PubKey[:])
	if err != nil {
		b.Fatal(err)
	}
	digest := tx.SigHash(g.Genesis.Hash)
	// Best of three rounds of 200: the highest rate is the strictest limit
	// (a round slowed by another process would flatter the pool).
	const n = 200
	for round := 0; round < 3; round++ {
		start, c0 := time.Now(), cpuTime()
		for i := 0; i < n; i++ {
			if !sig.Verify(digest[:], pub) {
				b.Fatal("verify")
			}
		}
		wall = max(wall, n/time.Since(start).Seconds())
		cpu = max(cpu, n/(cpuTime()-c0).Seconds())
	}
	return wall, cpu
}

// cpuTime is the CPU time the process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMempoolAdd admits valid transfers from thousands of funded
// senders on all cores and compares the rate with GOMAXPROCS cores doing
// nothing but raw signature verification (vs-verify-limit). cpu-vs-verify
// is the same comparison per second of process CPU time, which other
// processes on a shared machine do not distort.
func BenchmarkMempoolAdd(b *testing.B) {
	const senders = 4096
	g := chaingen.New(chaingen.Options{Accounts: senders})
	c := openChain(b, g)
	p, err := New(Config{Chain: c, Logger: quietLogger(), MaxCount: 1 << 22, MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	// Transaction i is sender i%senders' nonce i/senders, so concurrent
	// workers mostly meet distinct senders and each nonce run in order.
	txs := make([]*types.Tx, b.N)
	for i := range txs {
		s := i % senders
		txs[i] = g.Transfer(s, g.Addrs[(s+1)%senders], types.Coin, 1000, uint64(i/senders))
	}
	rate, rateCPU := verifyRate(b, g)
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start, c0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Add(txs[next.Add(1)-1]); err != nil {
				failed.Add(1)
			}
		}
	})
	elapsed, used := time.Since(start), cpuTime()-c0
	b.StopTimer()
	if failed.Load() != 0 {
		b.Fatalf("%d transactions refused", failed.Load())
	}
	txps := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(txps, "tx/s")
	b.ReportMetric(txps/(rate*float64(runtime.GOMAXPROCS(0))), "vs-verify-limit")
	// The same ratio per second of CPU time: what vs-verify-limit is when
	// every core is ours, whatever else runs on the machine.
	b.ReportMetric(float64(b.N)/used.Seconds()/rateCPU, "cpu-vs-verify")
}
