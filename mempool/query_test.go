package mempool

import (
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// rankedPool is a pool holding only executable entries, n of them with
// random fee rates (many equal, so arrival order matters), for Status.
func rankedPool(n int) (*Pool, []*entry) {
	p := &Pool{all: map[types.Hash]*entry{}, senders: map[types.Address]*sender{},
		recent: newHistory(10, time.Hour), cheap: newHistory(10, time.Hour), clock: time.Now}
	r := rand.New(rand.NewPCG(7, 7))
	entries := make([]*entry, n)
	for i := range entries {
		e := &entry{id: types.Hash{byte(i), byte(i >> 8), byte(i >> 16)}, seq: uint64(i),
			rate: FeeRate{Fee: types.Amount(148 + r.IntN(n/4+1)), Size: 148}}
		p.all[e.id] = e
		heap.Push(&p.pendingHeap, e)
		heap.Push(&p.rank, e)
		entries[i] = e
	}
	return p, entries
}

// TestStatusPosition: the position is exact up to MaxPosition and capped
// beyond, and counting it looks at no more than the entries ranked above
// plus their children, whatever the pool's size: Status stays cheap under
// the pool's lock (a full scan of 50,000 took 160 µs).
func TestStatusPosition(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		limit int
	}{
		{"small pool, exact", 2000, MaxPosition},
		{"large pool, capped", 50_000, MaxPosition},
		{"low limit", 3000, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, entries := rankedPool(tc.n)
			r := rand.New(rand.NewPCG(1, 2))
			for k := 0; k < 200; k++ {
				e := entries[r.IntN(len(entries))]
				want := 1
				for _, o := range entries {
					if ranksAbove(o, e) {
						want++
					}
				}
				want = min(want, tc.limit)
				pos, visited := p.positionLocked(e, tc.limit)
				if pos != want {
					t.Fatalf("position %d, want %d", pos, want)
				}
				if visited > 2*pos+1 {
					t.Fatalf("looked at %d entries for position %d", visited, pos)
				}
			}
			if tc.limit == MaxPosition {
				e := entries[0]
				if st := p.Status(e.id); st.State != StatePending || st.Position != min(p.mustPosition(t, e), MaxPosition) {
					t.Fatalf("status %+v", st)
				}
			}
		})
	}
}

func (p *Pool) mustPosition(t *testing.T, e *entry) int {
	t.Helper()
	pos := 1
	for _, o := range p.rank {
		if ranksAbove(o.e, e) {
			pos++
		}
	}
	return pos
}

// TestArrivalsBounded: the expiry list drops entries that left the pool
// without waiting for them to reach its front, so it stays proportional
// to the pool.
func TestArrivalsBounded(t *testing.T) {
	const senders = 300
	f := newFixture(t, chaingen.Options{Accounts: senders}, func(c *Config) { c.MaxCount = 1 })
	for i := 0; i < senders; i++ {
		f.mustAdd(f.tx(i, 0, types.Amount(1000+i))) // evicts the one before
	}
	f.p.mu.Lock()
	held := len(f.p.arrivals) - f.p.arrHead
	f.p.mu.Unlock()
	if held > 2*1+64 {
		t.Fatalf("arrivals hold %d entries for a pool of 1", held)
	}
	checkInvariants(t, f.p)
}

// BenchmarkStatus: Status of the lowest, a middle and the highest of 50,000
// executable transactions.
func BenchmarkStatus(b *testing.B) {
	p, entries := rankedPool(50_000)
	for _, k := range []struct {
		name string
		e    *entry
	}{{"lowest", p.pendingHeap[0]}, {"middle", entries[len(entries)/2]}, {"highest", p.rank[0].e}} {
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				p.Status(k.e.id)
			}
		})
	}
}
