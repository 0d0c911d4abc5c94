package chain

// The address index: histories, pages, reorganisations, Reindex, running
// without the index and building it at open, the read budget of a page,
// refused queries, and the cursor decoder (the marker that ties the index
// to the tip: addrindex_marker_test.go).

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// aiWant is the history of addr over a main chain given as its blocks
// from height 1, newest first, worked out from the blocks alone.
func aiWant(blocks []*types.Block, addr types.Address) []AddressCursor {
	var out []AddressCursor
	for h := len(blocks) - 1; h >= 0; h-- {
		txs := blocks[h].Txs
		for i := len(txs) - 1; i >= 0; i-- {
			tx := txs[i]
			if tx.To == addr || (!tx.IsCoinbase() && tx.Sender() == addr) {
				out = append(out, AddressCursor{Height: uint32(h + 1), Index: uint32(i)})
			}
		}
	}
	return out
}

// aiAll pages through addr's whole history, limit at a time, checking
// each page's shape, and returns the positions in order.
func aiAll(t testing.TB, c *Chain, addr types.Address, limit int) []AddressCursor {
	t.Helper()
	var (
		out    []AddressCursor
		cursor *AddressCursor
	)
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("paging does not end")
		}
		txs, next, err := c.AddressTxs(addr, limit, cursor)
		if err != nil {
			t.Fatalf("AddressTxs(%s, %d, %v): %v", addr, limit, cursor, err)
		}
		if len(txs) > limit {
			t.Fatalf("%d transactions for a limit of %d", len(txs), limit)
		}
		for _, tx := range txs {
			out = append(out, tx.Cursor())
		}
		if next == nil {
			return out
		}
		if len(txs) != limit || *next != txs[len(txs)-1].Cursor() {
			t.Fatalf("page of %d (limit %d) ends at %v with next cursor %v", len(txs), limit, txs[len(txs)-1].Cursor(), *next)
		}
		cursor = next
	}
}

func aiSame(t testing.TB, what string, got, want []AddressCursor) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: history %v, want %v", what, got, want)
	}
}

// aiCheckAll checks every address of g (and the miner's) against the
// history worked out from the main chain blocks.
func aiCheckAll(t testing.TB, c *Chain, g *chaingen.Generator, blocks []*types.Block) {
	t.Helper()
	for i, a := range append([]types.Address{g.Miner}, g.Addrs...) {
		aiSame(t, fmt.Sprintf("address %d", i-1), aiAll(t, c, a, MaxAddressTxs), aiWant(blocks, a))
	}
}

// aiCompareIndex fails unless two stores hold the same address index
// records, the completeness marker included.
func aiCompareIndex(t testing.TB, got, want *Chain) {
	t.Helper()
	for _, p := range []byte{prefixAddrTx, addrIndexReadyKey} {
		g, w := rgRecords(t, got, p), rgRecords(t, want, p)
		if len(g) != len(w) {
			t.Fatalf("table %c: %d records, want %d", p, len(g), len(w))
		}
		for k, v := range w {
			if gv, ok := g[k]; !ok || !bytes.Equal(gv, v) {
				t.Fatalf("table %c: record %x is %x (present %v), want %x", p, k, gv, ok, v)
			}
		}
	}
}

func TestAddressTxsHistory(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 5})
	a := g.Addrs
	b1 := g.MustBlock(g.Genesis.Hash, []*types.Tx{
		g.Transfer(0, a[1], 100, 10, 0),
		g.Transfer(1, a[2], 50, 10, 0),
	})
	b2 := g.MustBlock(b1.Hash(), []*types.Tx{
		g.Transfer(0, a[0], 7, 10, 1), // to itself
		g.Transfer(2, a[0], 20, 10, 0),
	}, chaingen.BlockOpts{Miner: &a[3]})
	b3 := g.MustBlock(b2.Hash(), []*types.Tx{g.Transfer(3, a[1], 5, 10, 0)})
	blocks := []*types.Block{b1, b2, b3}
	c := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, c, blocks...)

	type pos = AddressCursor
	rows := []struct {
		name string
		addr types.Address
		want []pos
	}{
		{"sender, self-transfer once, recipient", a[0], []pos{{2, 2}, {2, 1}, {1, 1}}},
		{"recipient and sender", a[1], []pos{{3, 1}, {1, 2}, {1, 1}}},
		{"sender and recipient in two blocks", a[2], []pos{{2, 2}, {1, 2}}},
		{"coinbase recipient, then sender", a[3], []pos{{3, 1}, {2, 0}}},
		{"miner of two coinbases", g.Miner, []pos{{3, 0}, {1, 0}}},
		{"funded, never used", a[4], nil},
		{"the coinbase's empty sender", types.Address{}, nil},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			aiSame(t, "explicit", aiAll(t, c, row.addr, MaxAddressTxs), row.want)
			aiSame(t, "worked out", aiAll(t, c, row.addr, MaxAddressTxs), aiWant(blocks, row.addr))
			txs, next, err := c.AddressTxs(row.addr, MaxAddressTxs, nil)
			if err != nil || next != nil {
				t.Fatalf("err %v, next %v", err, next)
			}
			for _, got := range txs {
				blk := blocks[got.Height-1]
				tx := blk.Txs[got.Index]
				if got.Tx.Hash() != tx.Hash() || got.TxID != tx.Hash() || got.Block != blk.Hash() ||
					got.Confirmations != 3-got.Height+1 {
					t.Fatalf("entry %+v: want tx %s in block %s with %d confirmations", got, tx.Hash(), blk.Hash(), 3-got.Height+1)
				}
			}
		})
	}
}

// aiBusyChain builds n blocks in which address 0 sends and receives
// several transfers, among transfers that do not involve it.
func aiBusyChain(g *chaingen.Generator, parent types.Hash, n int) []*types.Block {
	a := g.Addrs
	var out []*types.Block
	for i := 0; i < n; i++ {
		nonce := func(k int) uint64 { return g.Nonce(parent, a[k]) }
		txs := []*types.Tx{
			g.Transfer(0, a[1], types.Amount(100+i), 10, nonce(0)),
			g.Transfer(2, a[0], types.Amount(200+i), 10, nonce(2)),
			g.Transfer(1, a[5], 3, 10, nonce(1)),
			g.Transfer(0, a[3], types.Amount(300+i), 10, nonce(0)+1),
			g.Transfer(4, a[0], types.Amount(400+i), 10, nonce(4)),
		}
		if i%2 == 0 {
			txs = append(txs, g.Transfer(3, a[0], 1, 10, nonce(3)))
		}
		b := g.MustBlock(parent, txs)
		out = append(out, b)
		parent = b.Hash()
	}
	return out
}

func TestAddressTxsPages(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	blocks := aiBusyChain(g, g.Genesis.Hash, 5)
	c := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, c, blocks...)
	want := aiWant(blocks, g.Addrs[0])
	if len(want) != 23 {
		t.Fatalf("the fixture gives address 0 %d transactions, expected 23", len(want))
	}
	for _, limit := range []int{1, 2, 3, 7, 22, 23, 24, MaxAddressTxs} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			aiSame(t, "pages", aiAll(t, c, g.Addrs[0], limit), want)
		})
	}

	// Blocks connected between pages do not shift the pages still to
	// come: no transaction is repeated or skipped.
	first, next, err := c.AddressTxs(g.Addrs[0], 4, nil)
	if err != nil || next == nil || len(first) != 4 {
		t.Fatalf("first page: %d entries, next %v, err %v", len(first), next, err)
	}
	more := aiBusyChain(g, rgTip(blocks), 2)
	mustProcess(t, c, more...)
	got := []AddressCursor{}
	for _, tx := range first {
		got = append(got, tx.Cursor())
	}
	rest, _, err := c.AddressTxs(g.Addrs[0], MaxAddressTxs, next)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range rest {
		got = append(got, tx.Cursor())
		if tx.Confirmations != 7-tx.Height+1 {
			t.Fatalf("entry at height %d has %d confirmations after the tip moved to 7", tx.Height, tx.Confirmations)
		}
	}
	aiSame(t, "paging across new blocks", got, want)
	aiSame(t, "from the new tip", aiAll(t, c, g.Addrs[0], 5), aiWant(append(blocks, more...), g.Addrs[0]))
}

// TestAddressIndexReorg switches between two branches that pay different
// addresses: after each switch the index equals that of a store fed only
// the winning branch, and the histories equal those worked out from it.
func TestAddressIndexReorg(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 8})
	base := rgExtend(g, g.Genesis.Hash, 2, "base", nil)
	branchA := rgExtend(g, rgTip(base), 3, "a", nil)
	branchB := rgExtend(g, rgTip(base), 4, "b", func(i int, parent types.Hash) []*types.Tx {
		return []*types.Tx{g.Transfer(6, g.Addrs[7], types.Amount(10+i), 5, g.Nonce(parent, g.Addrs[6]))}
	})
	moreA := rgExtend(g, rgTip(branchA), 2, "a2", nil)

	c := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, c, base...)
	mustProcess(t, c, branchA...)
	winA := append(append([]*types.Block{}, base...), branchA...)
	aiCheckAll(t, c, g, winA)

	steps := []struct {
		name   string
		feed   []*types.Block
		winner []*types.Block
	}{
		{"to the longer branch", branchB, append(append([]*types.Block{}, base...), branchB...)},
		{"back to the first branch", moreA, append(append([]*types.Block{}, winA...), moreA...)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for _, b := range st.feed {
				if _, err := c.ProcessBlock(b); err != nil {
					t.Fatal(err)
				}
			}
			if c.Tip().Hash != rgTip(st.winner) {
				t.Fatalf("tip %s, want %s", c.Tip().Hash, rgTip(st.winner))
			}
			fresh := rlOpen(t, Config{Genesis: g.Genesis})
			mustProcess(t, fresh, st.winner...)
			aiCompareIndex(t, c, fresh)
			aiCheckAll(t, c, g, st.winner)
		})
	}
	// Address 7 is paid only on branch B, which lost.
	if txs, _, err := c.AddressTxs(g.Addrs[7], MaxAddressTxs, nil); err != nil || len(txs) != 0 {
		t.Fatalf("address paid only on the losing branch: %d entries, err %v", len(txs), err)
	}
}

func TestAddressIndexReindex(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 8})
	base := rgExtend(g, g.Genesis.Hash, 3, "base", nil)
	branchA := rgExtend(g, rgTip(base), 2, "a", nil)
	branchB := rgExtend(g, rgTip(base), 3, "b", nil)
	winner := append(append([]*types.Block{}, base...), branchB...)
	dir := t.TempDir()
	cfg := Config{Genesis: g.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet}
	c := rlOpen(t, cfg)
	mustProcess(t, c, base...)
	mustProcess(t, c, branchA...)
	mustProcess(t, c, branchB...)
	ref := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, ref, winner...)
	aiCompareIndex(t, c, ref)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	rows := []struct {
		name    string
		noIndex bool
	}{
		{"with the index", false},
		{"without the index", true},
		{"with the index again", false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			rcfg := cfg
			rcfg.NoAddressIndex = row.noIndex
			r, err := Reindex(rcfg)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Tip().Hash != rgTip(winner) {
				t.Fatalf("reindexed tip %s, want %s", r.Tip().Hash, rgTip(winner))
			}
			if row.noIndex {
				if n := len(rgRecords(t, r, prefixAddrTx)) + len(rgRecords(t, r, addrIndexReadyKey)); n != 0 {
					t.Fatalf("%d address index records after a reindex without the index", n)
				}
				_, _, err := r.AddressTxs(g.Addrs[0], 10, nil)
				rlExactKind(t, err, ErrIndexUnavailable)
				return
			}
			aiCompareIndex(t, r, ref)
			aiCheckAll(t, r, g, winner)
		})
	}
}

// TestAddressIndexOffAndOn runs a store without the index, then with it
// (built at open), without it again (dropped), and after an interrupted
// build; with the index on it must always equal that of a store that
// always had it.
func TestAddressIndexOffAndOn(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 8})
	base := rgExtend(g, g.Genesis.Hash, 3, "base", nil)
	branchA := rgExtend(g, rgTip(base), 2, "a", nil)
	branchB := rgExtend(g, rgTip(base), 3, "b", nil)
	winner := append(append([]*types.Block{}, base...), branchB...)
	ref := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, ref, winner...)

	dir := t.TempDir()
	off := Config{Genesis: g.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet, NoAddressIndex: true}
	on := off
	on.NoAddressIndex = false
	reopen := func(t *testing.T, cfg Config) *Chain {
		t.Helper()
		c, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	wantOff := func(t *testing.T, c *Chain) {
		t.Helper()
		_, _, err := c.AddressTxs(g.Addrs[0], 10, nil)
		rlExactKind(t, err, ErrIndexUnavailable)
		if n := len(rgRecords(t, c, prefixAddrTx)) + len(rgRecords(t, c, addrIndexReadyKey)); n != 0 {
			t.Fatalf("%d address index records in a store without the index", n)
		}
	}
	wantOn := func(t *testing.T, c *Chain) {
		t.Helper()
		aiCompareIndex(t, c, ref)
		aiCheckAll(t, c, g, winner)
	}
	closeStore := func(t *testing.T, c *Chain) {
		t.Helper()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"off from the start, through a reorganisation", func(t *testing.T) {
			c := reopen(t, off)
			mustProcess(t, c, base...)
			mustProcess(t, c, branchA...)
			mustProcess(t, c, branchB...)
			wantOff(t, c)
			closeStore(t, c)
		}},
		{"on: built at open", func(t *testing.T) {
			c := reopen(t, on)
			wantOn(t, c)
			closeStore(t, c)
		}},
		{"off again: dropped", func(t *testing.T) {
			c := reopen(t, off)
			wantOff(t, c)
			closeStore(t, c)
		}},
		{"on after an interrupted build", func(t *testing.T) {
			closeStore(t, reopen(t, on))
			// A build killed midway: no marker, some entries written, and
			// stale ones of a branch that has since lost.
			adRaw(t, dir, func(db *leveldb.DB) {
				adMustDelete(t, db, []byte{addrIndexReadyKey})
				adMustDelete(t, db, addrTxKey(g.Miner, 1, 0))
				adMustPut(t, db, addrTxKey(g.Addrs[7], 4, 1), nil)
			})
			c := reopen(t, on)
			wantOn(t, c)
			closeStore(t, c)
		}},
		{"on, reopened: kept", func(t *testing.T) {
			c := reopen(t, on)
			wantOn(t, c)
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
}

// TestAddressIndexCorruptEntry: an entry that does not match the stored
// blocks is reported as ErrCorruptDB, never served.
func TestAddressIndexCorruptEntry(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3})
	b1 := g.MustBlock(g.Genesis.Hash, []*types.Tx{g.Transfer(0, g.Addrs[1], 100, 10, 0)})
	rows := []struct {
		name string
		key  []byte
		val  []byte
	}{
		{"names a transaction of others", addrTxKey(g.Addrs[2], 1, 1), nil},
		{"past the block's transactions", addrTxKey(g.Addrs[2], 1, 9), nil},
		{"above the tip", addrTxKey(g.Addrs[2], 5, 0), nil},
		{"with a value", addrTxKey(g.Addrs[2], 1, 1), []byte{1}},
		{"short key", addrTxKey(g.Addrs[2], 1, 1)[:addrTxKeySize-1], nil},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Genesis: g.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet}
			c := rlOpen(t, cfg)
			mustProcess(t, c, b1)
			c.Close()
			adRaw(t, dir, func(db *leveldb.DB) { adMustPut(t, db, row.key, row.val) })
			c = rlOpen(t, cfg)
			_, _, err := c.AddressTxs(g.Addrs[2], 10, nil)
			rlExactKind(t, err, ErrCorruptDB)
			// Other addresses are unaffected.
			aiSame(t, "address 1", aiAll(t, c, g.Addrs[1], 10), aiWant([]*types.Block{b1}, g.Addrs[1]))
		})
	}
}

func TestAddressTxsBadQuery(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	b1 := g.MustBlock(g.Genesis.Hash, []*types.Tx{g.Transfer(0, g.Addrs[1], 100, 10, 0)})
	c := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, c, b1)

	for _, s := range []string{"", "0", "000000010000000", "00000001000000000", "0000000g00000000",
		"00000001000000AB", "0x00000001000000", " 000000100000000", "00000001000000\x00\x00", "ff00ff00ff00ff0é"} {
		t.Run(fmt.Sprintf("cursor %q", s), func(t *testing.T) {
			_, err := ParseAddressCursor(s)
			rlExactKind(t, err, ErrBadCursor)
		})
	}
	for _, limit := range []int{0, -1, MaxAddressTxs + 1, -1 << 40} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			_, _, err := c.AddressTxs(g.Addrs[0], limit, nil)
			rlExactKind(t, err, ErrBadLimit)
		})
	}

	rows := []struct {
		name   string
		cursor AddressCursor
		want   []AddressCursor
	}{
		{"above the tip", AddressCursor{Height: ^uint32(0), Index: ^uint32(0)}, []AddressCursor{{1, 1}}},
		{"just above the entry", AddressCursor{Height: 1, Index: 2}, []AddressCursor{{1, 1}}},
		{"at the entry", AddressCursor{Height: 1, Index: 1}, nil},
		{"at the start", AddressCursor{}, nil},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			parsed, err := ParseAddressCursor(row.cursor.String())
			if err != nil || parsed != row.cursor {
				t.Fatalf("cursor %v round-trips to %v, %v", row.cursor, parsed, err)
			}
			txs, next, err := c.AddressTxs(g.Addrs[0], MaxAddressTxs, &parsed)
			if err != nil || next != nil {
				t.Fatalf("err %v, next %v", err, next)
			}
			var got []AddressCursor
			for _, tx := range txs {
				got = append(got, tx.Cursor())
			}
			aiSame(t, "from cursor", got, row.want)
		})
	}

	c.Close()
	_, _, err := c.AddressTxs(g.Addrs[0], 1, nil)
	rlExactKind(t, err, ErrClosed)
}

// TestAddressTxsWhileConnecting reads histories while blocks connect:
// every answer describes one tip, the one its confirmations name.
func TestAddressTxsWhileConnecting(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	blocks := aiBusyChain(g, g.Genesis.Hash, 12)
	c := rlOpen(t, Config{Genesis: g.Genesis})
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
		errs = make(chan string, 1)
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			txs, _, err := c.AddressTxs(g.Addrs[0], MaxAddressTxs, nil)
			if err != nil {
				errs <- err.Error()
				return
			}
			if len(txs) == 0 {
				continue
			}
			tip := txs[0].Height + txs[0].Confirmations - 1
			var got []AddressCursor
			for _, tx := range txs {
				got = append(got, tx.Cursor())
				if tx.Height+tx.Confirmations-1 != tip {
					errs <- fmt.Sprintf("entries of two tips in one answer: %+v", txs)
					return
				}
			}
			if want := aiWant(blocks[:tip], g.Addrs[0]); fmt.Sprint(got) != fmt.Sprint(want) {
				errs <- fmt.Sprintf("at tip %d: %v, want %v", tip, got, want)
				return
			}
		}
	}()
	mustProcess(t, c, blocks...)
	close(done)
	wg.Wait()
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
}

// TestAddressTxsTipNotYetInMemory: a block joins the in-memory index just
// after the batch that connects it is written; a query whose snapshot
// falls in between reads the tip's height from the snapshot rather than
// reporting a corrupt store.
func TestAddressTxsTipNotYetInMemory(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	blocks := aiBusyChain(g, g.Genesis.Hash, 3)
	c := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, c, blocks...)
	tip := rgTip(blocks)
	// The moment between the write and the memory update, made to last.
	c.mu.Lock()
	delete(c.index, tip)
	c.mu.Unlock()
	txs, _, err := c.AddressTxs(g.Addrs[0], MaxAddressTxs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []AddressCursor
	for _, tx := range txs {
		got = append(got, tx.Cursor())
		if tx.Confirmations != 3-tx.Height+1 {
			t.Fatalf("entry at height %d: %d confirmations at tip 3", tx.Height, tx.Confirmations)
		}
	}
	aiSame(t, "history", got, aiWant(blocks, g.Addrs[0]))
}

// TestStateSnapshotTipNotYetInMemory: the same moment for StateSnapshot,
// which the pool and the miner call on every new tip: the tip's header
// comes from the snapshot, not a false ErrCorruptDB.
func TestStateSnapshotTipNotYetInMemory(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	blocks := aiBusyChain(g, g.Genesis.Hash, 3)
	c := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, c, blocks...)
	tip := rgTip(blocks)
	c.mu.Lock()
	delete(c.index, tip)
	c.mu.Unlock()
	snap, err := c.StateSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	last := blocks[len(blocks)-1]
	if snap.Tip != tip || snap.Height != 3 || snap.Header != last.Header {
		t.Fatalf("snapshot at %s height %d, want %s height 3 with its header", snap.Tip, snap.Height, tip)
	}
}

func FuzzAddressCursor(f *testing.F) {
	f.Add("")
	f.Add("0000000000000000")
	f.Add(AddressCursor{Height: 123456, Index: 7}.String())
	f.Add("ffffffffffffffff")
	f.Add("FFFFFFFFFFFFFFFF")
	f.Add("0000000100000002ab")
	f.Add("000000010000000z")
	f.Add(strings.Repeat("0", 1000))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAddressCursor(s)
		if err != nil {
			wantKind(t, err, ErrBadCursor)
			return
		}
		if c.String() != s {
			t.Fatalf("%q decodes to %+v, which encodes as %q", s, c, c.String())
		}
	})
}

// TestAddressTxsReadBudget: a call stops at a block boundary once the
// bodies it read reach its budget, with a cursor from which the next page
// resumes; each block is read once per call however many of its entries
// the page lists; paging on gives the whole history.
func TestAddressTxsReadBudget(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	blocks := aiBusyChain(g, g.Genesis.Hash, 5)
	c := rlOpen(t, Config{Genesis: g.Genesis})
	mustProcess(t, c, blocks...)
	addr := g.Addrs[0]
	want := aiWant(blocks, addr)
	minSize, maxSize := 1<<30, 0
	for _, b := range blocks {
		minSize, maxSize = min(minSize, len(b.Encode())), max(maxSize, len(b.Encode()))
	}
	if maxSize >= 2*minSize {
		t.Fatalf("block sizes %d to %d: the two-block budget below needs them within a factor of 2", minSize, maxSize)
	}
	perBlock := map[uint32]int{}
	for _, p := range want {
		perBlock[p.Height]++
	}

	rows := []struct {
		name      string
		budget    int
		maxBlocks int // blocks a page may span: a page stops after reading them
	}{
		{"one byte: one block per page", 1, 1},
		{"two blocks' worth", 2 * minSize, 2},
		{"the default", addressTxsReadBudget, len(blocks)},
	}
	for _, row := range rows {
		for _, limit := range []int{1, 3, 7, MaxAddressTxs} {
			t.Run(fmt.Sprintf("%s, limit %d", row.name, limit), func(t *testing.T) {
				var (
					got    []AddressCursor
					cursor *AddressCursor
				)
				for pages := 0; ; pages++ {
					if pages > len(want) {
						t.Fatal("paging does not end")
					}
					txs, next, err := c.addressTxs(addr, limit, cursor, row.budget)
					if err != nil {
						t.Fatal(err)
					}
					if len(txs) == 0 || len(txs) > limit {
						t.Fatalf("page %d: %d transactions for a limit of %d", pages, len(txs), limit)
					}
					heights := map[uint32]int{}
					for _, tx := range txs {
						got = append(got, tx.Cursor())
						heights[tx.Height]++
					}
					if len(heights) > row.maxBlocks {
						t.Fatalf("page %d spans %d blocks, budget %d allows %d", pages, len(heights), row.budget, row.maxBlocks)
					}
					if next == nil {
						break
					}
					last := txs[len(txs)-1]
					if *next != last.Cursor() {
						t.Fatalf("page %d ends at %v with next cursor %v", pages, last.Cursor(), *next)
					}
					if len(txs) < limit {
						// Short: it stopped at a block boundary, after
						// reading the blocks the budget allows, each once
						// for all of its entries on the page.
						done := 0
						for _, p := range got {
							if p.Height == last.Height {
								done++
							}
						}
						if done != perBlock[last.Height] {
							t.Fatalf("short page %d ends inside block %d (%d of its %d entries listed so far)", pages, last.Height, done, perBlock[last.Height])
						}
						if len(heights) != row.maxBlocks {
							t.Fatalf("short page %d spans %d blocks, want %d", pages, len(heights), row.maxBlocks)
						}
					}
					cursor = next
				}
				aiSame(t, "pages", got, want)
			})
		}
	}
}
