package mempool

import (
	"strings"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

func TestNonceGapAndPromotion(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 3}, nil)
	t0, t1, t2, t4 := f.tx(0, 0, 1000), f.tx(0, 1, 1000), f.tx(0, 2, 1000), f.tx(0, 4, 1000)
	f.mustAdd(t2, t1, t4)
	for _, tx := range []*types.Tx{t1, t2, t4} {
		if st := wantStatus(t, f.p, tx, StateQueued); st.MissingNonce != 0 {
			t.Fatalf("missing nonce %d, want 0", st.MissingNonce)
		}
	}
	if n, _ := f.p.PendingNonce(f.g.Addrs[0]); n != 0 {
		t.Fatalf("pending nonce %d", n)
	}
	if got := f.p.Pending(0, 0); len(got) != 0 {
		t.Fatalf("queued transactions selected: %d", len(got))
	}
	f.mustAdd(t0) // closes the gap: 0,1,2 promoted; 4 waits for 3
	for _, tx := range []*types.Tx{t0, t1, t2} {
		wantStatus(t, f.p, tx, StatePending)
	}
	if st := wantStatus(t, f.p, t4, StateQueued); st.MissingNonce != 3 {
		t.Fatalf("missing nonce %d, want 3", st.MissingNonce)
	}
	if n, _ := f.p.PendingNonce(f.g.Addrs[0]); n != 3 {
		t.Fatalf("pending nonce %d, want 3", n)
	}
	if n, _ := f.p.PendingNonce(f.g.Addrs[1]); n != 0 {
		t.Fatalf("pending nonce of a sender without transactions %d", n)
	}
	got := f.p.Pending(0, 0)
	if len(got) != 3 || got[0].ID != t0.Hash() || got[2].ID != t2.Hash() {
		t.Fatalf("pending %v", got)
	}
	// A queued transaction the balance left by the run cannot pay is
	// refused; the gap bound counts from the run's end.
	wantKind(t, f.p.Add(f.txAmount(0, 6, 999*types.Coin, 1000)), consensus.ErrInsufficientBalance)
	checkInvariants(t, f.p)

	// Promotion re-checks the balance: a queued transfer that no longer
	// fits once the gap is filled with a big one is dropped with the reason.
	f2 := newFixture(t, chaingen.Options{Accounts: 3}, nil)
	q := f2.txAmount(0, 1, 600*types.Coin, 1000)
	f2.mustAdd(q)
	f2.mustAdd(f2.txAmount(0, 0, 500*types.Coin, 1000))
	st := wantStatus(t, f2.p, q, StateRemoved)
	if st.Reason != ReasonInvalidated {
		t.Fatalf("reason %q", st.Reason)
	}
	wantKind(t, st.Err, consensus.ErrInsufficientBalance)
	checkInvariants(t, f2.p)
}

// TestReplacement: a replacement must pay ReplaceBumpPercent more than the
// fee it replaces and, on top of that fee, the minimum relay fee for its
// own size (it is relayed again). A transfer is 148 bytes, so at 1 per
// byte the second rule binds for fees below 1,480 and the first above.
func TestReplacement(t *testing.T) {
	const bump, relay = "higher", "relay fee"
	tests := []struct {
		name           string
		queued         bool
		minFeePerByte  types.Amount
		oldFee, newFee types.Amount
		// why is in the refusal's description: which rule refused it.
		why string
	}{
		{"below the bump", false, 1, 10_000, 10_999, bump},
		{"exactly the bump", false, 1, 10_000, 11_000, ""},
		{"queued below the bump", true, 1, 10_000, 10_999, bump},
		{"queued exactly the bump", true, 1, 10_000, 11_000, ""},
		{"bumped, short of its relay fee", false, 1, 1000, 1147, relay},
		{"bumped, paying its relay fee", false, 1, 1000, 1148, ""},
		{"queued, bumped, short of its relay fee", true, 1, 1000, 1147, relay},
		{"queued, bumped, paying its relay fee", true, 1, 1000, 1148, ""},
		{"short of the relay fee at 10 per byte", false, 10, 10_000, 11_479, relay},
		{"the relay fee at 10 per byte", false, 10, 10_000, 11_480, ""},
		{"far above both", false, 1, 1000, 50_000, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, chaingen.Options{Accounts: 3}, func(c *Config) { c.MinFeePerByte = tc.minFeePerByte })
			nonce := uint64(0)
			if tc.queued {
				nonce = 3
			}
			old := f.tx(0, nonce, tc.oldFee)
			f.mustAdd(old, f.tx(1, 0, 10_000))
			repl := f.txAmount(0, nonce, 2*types.Coin, tc.newFee)
			if repl.EncodedSize() != 148 {
				t.Fatalf("replacement is %d bytes", repl.EncodedSize())
			}
			err := f.p.Add(repl)
			if tc.why != "" {
				wantKind(t, err, ErrReplacementUnderpriced)
				if !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("refused for another reason than %q: %v", tc.why, err)
				}
				wantStatus(t, f.p, old, map[bool]TxState{false: StatePending, true: StateQueued}[tc.queued])
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := wantStatus(t, f.p, old, StateRemoved)
			if st.Reason != ReasonReplaced || st.ReplacedBy != repl.Hash() {
				t.Fatalf("status %+v", st)
			}
			if f.p.Count() != 2 {
				t.Fatalf("count %d", f.p.Count())
			}
			checkInvariants(t, f.p)
		})
	}
}

// TestSenderLimit: a sender at MaxPerSender may still send a nonce below
// its highest, which then leaves (evicted, with the reason); above it, or
// with its run complete, the sender is refused.
func TestSenderLimit(t *testing.T) {
	tests := []struct {
		name    string
		pooled  []uint64
		nonce   uint64
		wantErr error
		// evicted is the pooled nonce that must leave, if any.
		evicted int64
	}{
		{"fills the gap, evicts the highest", []uint64{0, 2, 3}, 1, nil, 3},
		{"below a queued run, evicts the highest", []uint64{2, 3, 4}, 0, nil, 4},
		{"inside a gap of the queued part", []uint64{0, 2, 5}, 3, nil, 5},
		{"beyond the highest", []uint64{0, 2, 3}, 4, ErrSenderLimit, -1},
		{"run complete", []uint64{0, 1, 2}, 3, ErrSenderLimit, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, chaingen.Options{Accounts: 3}, func(c *Config) { c.MaxPerSender = 3 })
			pooled := map[uint64]*types.Tx{}
			for _, n := range tc.pooled {
				pooled[n] = f.tx(0, n, 1000)
				f.mustAdd(pooled[n])
			}
			tx := f.tx(0, tc.nonce, 1000)
			err := f.p.Add(tx)
			if tc.wantErr != nil {
				wantKind(t, err, tc.wantErr)
				if f.p.Count() != len(tc.pooled) {
					t.Fatalf("count %d", f.p.Count())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := wantStatus(t, f.p, pooled[uint64(tc.evicted)], StateRemoved)
			if st.Reason != ReasonEvicted {
				t.Fatalf("reason %q", st.Reason)
			}
			wantKind(t, st.Err, ErrSenderLimit)
			if f.p.Count() != 3 {
				t.Fatalf("count %d", f.p.Count())
			}
			checkInvariants(t, f.p)
		})
	}
}

func TestEvictionOrder(t *testing.T) {
	t.Run("lowest fee rate first", func(t *testing.T) {
		f := newFixture(t, chaingen.Options{Accounts: 6}, func(c *Config) { c.MaxCount = 3 })
		a, b, c := f.tx(0, 0, 1000), f.tx(1, 0, 2000), f.tx(2, 0, 3000)
		f.mustAdd(a, b, c)
		d := f.tx(3, 0, 2500)
		f.mustAdd(d)
		if st := wantStatus(t, f.p, a, StateRemoved); st.Reason != ReasonEvicted {
			t.Fatalf("reason %q", st.Reason)
		}
		wantKind(t, f.p.Add(f.tx(4, 0, 2000)), ErrPoolFull) // ties lose: it would go first
		if mr := f.p.MinFeeRate(); mr.Cmp(FeeRate{Fee: 2000, Size: uint64(b.EncodedSize())}) <= 0 {
			t.Fatalf("min fee rate %s when full", mr)
		}
		checkInvariants(t, f.p)
	})
	t.Run("higher nonces go with their sender's evicted one", func(t *testing.T) {
		f := newFixture(t, chaingen.Options{Accounts: 6}, func(c *Config) { c.MaxCount = 3 })
		a0, a1, b := f.tx(0, 0, 1000), f.tx(0, 1, 9000), f.tx(1, 0, 3000)
		f.mustAdd(a0, a1, b)
		f.mustAdd(f.tx(2, 0, 2000))
		for _, tx := range []*types.Tx{a0, a1} {
			if st := wantStatus(t, f.p, tx, StateRemoved); st.Reason != ReasonEvicted {
				t.Fatalf("reason %q", st.Reason)
			}
		}
		if f.p.Count() != 2 {
			t.Fatalf("count %d", f.p.Count())
		}
		checkInvariants(t, f.p)
	})
	t.Run("queued before executable", func(t *testing.T) {
		f := newFixture(t, chaingen.Options{Accounts: 6}, func(c *Config) { c.MaxCount = 2 })
		q := f.tx(0, 5, 9000) // high rate but behind a gap
		p1 := f.tx(1, 0, 1000)
		f.mustAdd(q, p1)
		f.mustAdd(f.tx(2, 0, 1500))
		if st := wantStatus(t, f.p, q, StateRemoved); st.Reason != ReasonEvicted {
			t.Fatalf("reason %q", st.Reason)
		}
		wantStatus(t, f.p, p1, StatePending)
		// A queued newcomer never displaces an executable transaction.
		wantKind(t, f.p.Add(f.tx(3, 2, 9000)), ErrPoolFull)
		checkInvariants(t, f.p)
	})
	t.Run("newcomer depending on the victim is refused", func(t *testing.T) {
		f := newFixture(t, chaingen.Options{Accounts: 6}, func(c *Config) { c.MaxCount = 2 })
		f.mustAdd(f.tx(0, 0, 1000), f.tx(1, 0, 3000))
		wantKind(t, f.p.Add(f.tx(0, 1, 9000)), ErrPoolFull)
		if f.p.Count() != 2 {
			t.Fatalf("count %d", f.p.Count())
		}
		checkInvariants(t, f.p)
	})
	t.Run("byte limit", func(t *testing.T) {
		size := 148 // a transfer without memo
		f := newFixture(t, chaingen.Options{Accounts: 6}, func(c *Config) { c.MaxBytes = 3*size + 110 })
		a := f.tx(0, 0, 1000)
		if a.EncodedSize() != size {
			t.Fatalf("transfer is %d bytes", a.EncodedSize())
		}
		f.mustAdd(a, f.tx(1, 0, 2000), f.tx(2, 0, 3000))
		big := &types.Tx{Kind: types.TxTransfer, ChainID: f.g.Params.ChainID, To: f.g.Addrs[0], Amount: 1, Fee: 100_000, Memo: make([]byte, 100)}
		types.SignTx(big, f.g.Keys[3], f.g.Genesis.Hash)
		f.mustAdd(big) // needs 100 more bytes: evicts the lowest rate only
		wantStatus(t, f.p, a, StateRemoved)
		if f.p.Count() != 3 || f.p.Bytes() > 3*size+110 {
			t.Fatalf("count %d bytes %d", f.p.Count(), f.p.Bytes())
		}
		checkInvariants(t, f.p)
	})
}

func TestExpiry(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 3}, nil)
	a0, b0 := f.tx(0, 0, 1000), f.tx(1, 0, 1000)
	f.mustAdd(a0, b0)
	f.clock.Advance(2 * time.Hour)
	a1 := f.tx(0, 1, 1000)
	f.mustAdd(a1)
	f.clock.Advance(time.Hour + time.Second) // a0 and b0 are 3h1s old, a1 1h1s
	f.p.Expire()
	for _, tx := range []*types.Tx{a0, b0} {
		if st := wantStatus(t, f.p, tx, StateRemoved); st.Reason != ReasonExpired {
			t.Fatalf("reason %q", st.Reason)
		}
	}
	if st := wantStatus(t, f.p, a1, StateQueued); st.MissingNonce != 0 {
		t.Fatalf("missing %d", st.MissingNonce)
	}
	// Expiry also runs on its own as transactions arrive.
	f.clock.Advance(2 * time.Hour)
	f.mustAdd(f.tx(2, 0, 1000))
	if st := wantStatus(t, f.p, a1, StateRemoved); st.Reason != ReasonExpired {
		t.Fatalf("reason %q", st.Reason)
	}
	// And the memory of removals is bounded in age.
	f.clock.Advance(DefaultRecentAge + time.Minute)
	wantStatus(t, f.p, a0, StateUnknown)
	checkInvariants(t, f.p)
}

// TestExpiryWhenQuiet: with no arrivals and no blocks, the pool's own
// goroutine still drops a transaction older than MaxAge.
func TestExpiryWhenQuiet(t *testing.T) {
	const maxAge = 320 * time.Millisecond // sweeps every 20 ms
	f := newFixture(t, chaingen.Options{Accounts: 2}, func(c *Config) { c.MaxAge = maxAge })
	tx := f.tx(0, 0, 1000)
	f.mustAdd(tx)
	f.clock.Advance(maxAge + time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for f.p.Count() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a transaction past MaxAge is still in a quiet pool")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := wantStatus(t, f.p, tx, StateRemoved); st.Reason != ReasonExpired {
		t.Fatalf("reason %q", st.Reason)
	}
	checkInvariants(t, f.p)
}

func TestHistoryBounded(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 3}, func(c *Config) { c.RecentCount = 2 })
	var refused []*types.Tx
	for i := 0; i < 3; i++ {
		tx := f.tx(0, 0, types.Amount(10+i))
		wantKind(t, f.p.Add(tx), ErrFeeTooLow)
		refused = append(refused, tx)
	}
	wantStatus(t, f.p, refused[0], StateUnknown)
	wantStatus(t, f.p, refused[1], StateRefused)
	wantStatus(t, f.p, refused[2], StateRefused)
	h := newHistory(3, time.Hour)
	now := time.Unix(0, 0)
	for i := 0; i < 100; i++ {
		h.put(types.Hash{byte(i % 5)}, TxStatus{Time: now})
	}
	if len(h.m) != 3 || len(h.fifo)-h.head > 2*3+16 {
		t.Fatalf("history holds %d records, %d queue items", len(h.m), len(h.fifo)-h.head)
	}
}

// TestSelection checks fee-rate order across senders, nonce order within
// one, and the size and count limits.
func TestSelection(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, nil)
	a0, a1 := f.tx(0, 0, 200), f.tx(0, 1, 90_000) // a1 pays most but needs a0
	b0 := f.tx(1, 0, 50_000)
	c0, c1 := f.tx(2, 0, 20_000), f.tx(2, 1, 10_000)
	f.mustAdd(a1, a0, b0, c0, c1)
	ids := func(cs []Candidate) []types.Hash {
		var out []types.Hash
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	want := []types.Hash{b0.Hash(), c0.Hash(), c1.Hash(), a0.Hash(), a1.Hash()}
	got := ids(f.p.Pending(0, 0))
	if len(got) != len(want) {
		t.Fatalf("got %d", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("position %d: got %s want %s", i, got[i], want[i])
		}
	}
	if got := ids(f.p.Pending(0, 2)); len(got) != 2 || got[1] != c0.Hash() {
		t.Fatalf("count limit: %v", got)
	}
	if got := f.p.Pending(2*148+10, 0); len(got) != 2 {
		t.Fatalf("byte limit: %d", len(got))
	}
	if st := wantStatus(t, f.p, c0, StatePending); st.Position != 3 {
		t.Fatalf("position %d", st.Position) // a1 and b0 pay more per byte
	}
	rates := f.p.FeeRates()
	if len(rates) != 5 || rates[0].Rate.Cmp(rates[4].Rate) <= 0 {
		t.Fatalf("fee rates %v", rates)
	}
	if cont := f.p.Content(0); len(cont) != 5 {
		t.Fatalf("content %d", len(cont))
	}
	if cont := f.p.Content(2); len(cont) != 2 {
		t.Fatalf("content limit %d", len(cont))
	}
	if tx, ok := f.p.Get(b0.Hash()); !ok || tx != b0 {
		t.Fatal("get")
	}
}

func TestSubscribe(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 3}, nil)
	var got []Accepted
	f.p.Subscribe(func(a Accepted) { got = append(got, a) })
	tx := f.tx(0, 0, 1000)
	f.mustAdd(tx)
	_ = f.p.Add(tx) // refused: no notification
	f.p.AddBatch([]*types.Tx{f.tx(1, 0, 1000)})
	if len(got) != 2 || got[0].ID != tx.Hash() || got[0].Sender != f.g.Addrs[0] {
		t.Fatalf("notifications %+v", got)
	}
}

func TestFeeRateCmp(t *testing.T) {
	tests := []struct {
		a, b FeeRate
		want int
	}{
		{FeeRate{1, 1}, FeeRate{2, 2}, 0},
		{FeeRate{1, 2}, FeeRate{1, 1}, -1},
		{FeeRate{types.MaxAmount, 300}, FeeRate{types.MaxAmount - 1, 300}, 1},
		{FeeRate{types.MaxAmount, 300}, FeeRate{types.MaxAmount, 299}, -1},
		{FeeRate{}, FeeRate{1, 1}, -1},
		{FeeRate{}, FeeRate{0, 5}, 0},
	}
	for _, tc := range tests {
		if got := tc.a.Cmp(tc.b); got != tc.want {
			t.Fatalf("%v cmp %v = %d", tc.a, tc.b, got)
		}
	}
	if !bumpOK(1000, 1100, 10) || bumpOK(1000, 1099, 10) || !bumpOK(types.MaxAmount, types.MaxAmount, 0) {
		t.Fatal("bump")
	}
}
