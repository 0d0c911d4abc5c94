package miner

import (
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// opNonces is the work of one benchmark op per thread.
const opNonces = 1 << 16

// searchLoop is the threads' inner loop: chunks of the nonce range with a
// generation check and a shared hash counter between chunks.
func searchLoop(h *hasher, target *[32]byte, ops int, gen *atomic.Uint64, hashes *atomic.Uint64) {
	g := gen.Load()
	for i := 0; i < ops*opNonces/chunk; i++ {
		if gen.Load() != g {
			return
		}
		if _, ok := h.scan(uint32(i*chunk), chunk, target); ok {
			panic("impossible target met")
		}
		hashes.Add(chunk)
	}
}

// BenchmarkMinerHashrate reports the hashes per second of one thread
// (H/s), that rate over a plain double SHA-256 of the 118-byte header
// (vs-naive), and the rate of GOMAXPROCS threads over one thread's
// (scaling, and scaling/GOMAXPROCS). cpu-efficiency is the all-thread
// over the one-thread rate per second of process CPU time: 1.0 means the
// threads cost each other nothing, so scaling is bounded only by the cores
// other processes leave free.
//
// Each op is one round of the three measurements, interleaved, of
// opNonces per thread each; every figure is the best round. On a shared
// machine other load only ever slows a round down, so the best rounds
// estimate the uncontended rates and, being taken side by side, keep the
// ratios honest; a plain average would compare phases that ran under
// different load.
func BenchmarkMinerHashrate(b *testing.B) {
	var hdr types.Header
	hdr.Version, hdr.Height, hdr.Time = 1, 1234, 1_700_000_000
	for i := range hdr.PrevBlock {
		hdr.PrevBlock[i], hdr.TxRoot[i] = byte(i), byte(3*i)
	}
	enc := hdr.Encode()
	var target [32]byte // zero: met by no hash in practice
	var gen, hashes atomic.Uint64
	procs := runtime.GOMAXPROCS(0)
	hashers := make([]*hasher, procs)
	for t := range hashers {
		hashers[t] = newHasher()
		e := enc
		e[0] ^= byte(t + 1) // each thread its own header
		hashers[t].setHeader(&e)
	}
	rate := func(n int, f func()) float64 {
		start := time.Now()
		f()
		return float64(n) / time.Since(start).Seconds()
	}
	// cpuRate is hashes per second of CPU time the process used: what a
	// core yields while it runs our threads, whoever else holds the others.
	cpuRate := func(n int, f func()) float64 {
		c0 := cpuTime()
		f()
		return float64(n) / (cpuTime() - c0).Seconds()
	}
	// allThreads runs one search per thread, each on its own hasher.
	allThreads := func() {
		var wg sync.WaitGroup
		for t := 0; t < procs; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				searchLoop(hashers[t], &target, 1, &gen, &hashes)
			}()
		}
		wg.Wait()
	}
	var one, naive, all, oneCPU, allCPU float64
	var sink byte
	buf := enc
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		one = max(one, rate(opNonces, func() { searchLoop(hashers[0], &target, 1, &gen, &hashes) }))
		naive = max(naive, rate(opNonces, func() {
			for n := 0; n < opNonces; n++ {
				binary.BigEndian.PutUint32(buf[types.NonceOffset:], uint32(n))
				first := sha256.Sum256(buf[:])
				second := sha256.Sum256(first[:])
				sink ^= second[0]
			}
		}))
		all = max(all, rate(procs*opNonces, allThreads))
	}
	for i := 0; i < b.N; i++ {
		oneCPU = max(oneCPU, cpuRate(opNonces, func() { searchLoop(hashers[0], &target, 1, &gen, &hashes) }))
		allCPU = max(allCPU, cpuRate(procs*opNonces, allThreads))
	}
	b.StopTimer()
	if sink == 42 {
		b.Log(sink)
	}
	b.ReportMetric(allCPU/oneCPU, "cpu-efficiency")
	b.ReportMetric(one, "H/s")
	b.ReportMetric(one/naive, "vs-naive")
	b.ReportMetric(all/one, "scaling")
	b.ReportMetric(all/one/float64(procs), "scaling/GOMAXPROCS")
}

// cpuTime is the CPU time the process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBlockTemplate builds a full template from a pool of 20,000
// transactions from 20,000 senders (the block's count limit, 20,000 with
// the coinbase, is what binds).
func BenchmarkBlockTemplate(b *testing.B) {
	const n = 20_000
	f := newFixture(b, chaingen.Options{Accounts: n})
	txs := make([]*types.Tx, n)
	for i := range txs {
		txs[i] = f.tx(i, 0, types.Amount(200+i%5000))
		// Setup only: skip verifying 20,000 signatures we just made.
		f.c.SigCache().Add(txs[i].Hash())
	}
	for i, err := range f.p.AddBatch(txs) {
		if err != nil {
			b.Fatalf("tx %d: %v", i, err)
		}
	}
	m := f.newMiner(nil)
	b.ResetTimer()
	var count int
	for i := 0; i < b.N; i++ {
		t, err := m.buildTemplate(m.cfg.Address)
		if err != nil {
			b.Fatal(err)
		}
		count = len(t.Block.Txs) - 1
	}
	b.StopTimer()
	b.ReportMetric(float64(count), "txs")
}
