package mempool

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// kindRecorder keeps the Kind of every outcome it hears: "" for admitted,
// "unkinded" for an error without a kind.
type kindRecorder struct {
	mu    sync.Mutex
	kinds []string // guarded by mu
}

func (r *kindRecorder) TxProcessed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := Kind(err)
	if err != nil && k == "" {
		k = "unkinded"
	}
	r.kinds = append(r.kinds, k)
}

func (r *kindRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.kinds
	r.kinds = nil
	return out
}

// TestObserverHearsEveryOffer: Add, AddBatch and Load report each
// transaction once, in order, admitted ("") or refused with the kind the
// caller gets (consensus and policy kinds alike, duplicates as
// ErrAlreadyKnown); the pool's own bookkeeping (a mined transaction
// leaving) is not an offer.
func TestObserverHearsEveryOffer(t *testing.T) {
	rec := &kindRecorder{}
	f := newFixture(t, chaingen.Options{Accounts: 3}, func(c *Config) { c.Observer = rec })
	mined, kept := f.tx(0, 0, 1000), f.tx(1, 0, 1000)
	file := filepath.Join(t.TempDir(), "mempool.dat")
	var second *Pool
	steps := []struct {
		name string
		run  func()
		want []string
	}{
		{"admitted", func() { f.p.Add(mined) }, []string{""}},
		{"duplicate", func() { f.p.Add(mined) }, []string{string(ErrAlreadyKnown)}},
		{"fee too low", func() { f.p.Add(f.tx(2, 0, 1)) }, []string{string(ErrFeeTooLow)}},
		{"mined, not an offer", func() { f.connect(mined) }, nil},
		{"used nonce", func() { f.p.Add(f.tx(0, 0, 2000)) }, []string{string(consensus.ErrBadNonce)}},
		{"batch", func() { f.p.AddBatch([]*types.Tx{kept, kept, f.tx(2, 0, 1)}) },
			[]string{"", string(ErrAlreadyKnown), string(ErrFeeTooLow)}},
		{"load", func() {
			if err := f.p.Save(file); err != nil {
				t.Fatal(err)
			}
			second = f.newPool(func(c *Config) { c.Observer = rec })
			if _, err := second.Load(file); err != nil {
				t.Fatal(err)
			}
		}, []string{""}},
		{"load again", func() { second.Load(file) }, []string{string(ErrAlreadyKnown)}},
	}
	for _, st := range steps {
		st.run()
		if got := rec.take(); !slices.Equal(got, st.want) {
			t.Fatalf("%s: observer heard %q, want %q", st.name, got, st.want)
		}
	}
}
