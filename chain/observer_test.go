package chain

import (
	"errors"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// recordingObserver keeps every BlockProcessed call.
type recordingObserver struct {
	calls []observedBlock
}

type observedBlock struct {
	res     ProcessResult
	err     error
	elapsed time.Duration
}

func (r *recordingObserver) BlockProcessed(res ProcessResult, err error, elapsed time.Duration) {
	r.calls = append(r.calls, observedBlock{res, err, elapsed})
}

// TestObserverSeesEveryOutcome: the observer hears each ProcessBlock and
// ProcessRequestedBlock call once, with the result and error the caller
// gets, and the store is usable (unlocked) when it is called.
func TestObserverSeesEveryOutcome(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	obs := &recordingObserver{}
	c, err := Open(Config{Dir: t.TempDir(), Genesis: g.Genesis, Clock: testClock, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	blocks := g.Chain(g.Genesis.Hash, 3, "obs")
	bad := g.Mutate(blocks[1], false, func(b *types.Block) { b.Header.StateRoot[0] ^= 1 })
	steps := []struct {
		name       string
		process    func() (ProcessResult, error)
		wantKind   error // nil: accepted
		wantMain   bool
		wantOrphan bool
	}{
		{"accepted", func() (ProcessResult, error) { return c.ProcessBlock(blocks[0]) }, nil, true, false},
		{"orphan", func() (ProcessResult, error) { return c.ProcessBlock(blocks[2]) }, nil, false, true},
		{"duplicate", func() (ProcessResult, error) { return c.ProcessBlock(blocks[0]) }, ErrDuplicateBlock, false, false},
		{"rule broken", func() (ProcessResult, error) { return c.ProcessRequestedBlock(bad) }, consensus.ErrBadStateRoot, false, false},
		{"requested, connects the orphan", func() (ProcessResult, error) { return c.ProcessRequestedBlock(blocks[1]) }, nil, true, false},
	}
	for i, st := range steps {
		res, err := st.process()
		if len(obs.calls) != i+1 {
			t.Fatalf("%s: observer called %d times in all, want %d", st.name, len(obs.calls), i+1)
		}
		got := obs.calls[i]
		if got.res != res || !errors.Is(got.err, err) || (got.err == nil) != (err == nil) {
			t.Fatalf("%s: observer got (%+v, %v), caller got (%+v, %v)", st.name, got.res, got.err, res, err)
		}
		if st.wantKind == nil && err != nil || st.wantKind != nil && !errors.Is(err, st.wantKind) {
			t.Fatalf("%s: error %v, want kind %v", st.name, err, st.wantKind)
		}
		if res.MainChain != st.wantMain || res.Orphan != st.wantOrphan {
			t.Fatalf("%s: result %+v", st.name, res)
		}
		if got.elapsed < 0 || st.wantKind == nil && got.elapsed == 0 {
			t.Fatalf("%s: elapsed %v", st.name, got.elapsed)
		}
	}
	if tip := c.Tip(); tip.Hash != blocks[2].Hash() {
		t.Fatalf("tip %s at height %d, want the third block", tip.Hash, tip.Height)
	}
}

// TestObserverMayReadTheStore: the observer is called with the store's
// lock released, so it can query it (a deadlock would hang the test).
func TestObserverMayReadTheStore(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 1})
	var c *Chain
	var heights []uint32
	obs := observerFunc(func(ProcessResult, error, time.Duration) { heights = append(heights, c.Tip().Height) })
	c, err := Open(Config{Dir: t.TempDir(), Genesis: g.Genesis, Clock: testClock, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	mustProcess(t, c, g.Chain(g.Genesis.Hash, 2, "read")...)
	if len(heights) != 2 || heights[0] != 1 || heights[1] != 2 {
		t.Fatalf("observer saw tip heights %v, want [1 2]", heights)
	}
}

type observerFunc func(ProcessResult, error, time.Duration)

func (f observerFunc) BlockProcessed(res ProcessResult, err error, elapsed time.Duration) {
	f(res, err, elapsed)
}
