package chain

// Operator tools and store lifecycle (security-tests item 21):
// InvalidateBlock and ReconsiderBlock, Reindex after corruption, a data
// directory of another network, and a closed store.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// adFix is a main chain A1..A6 with transfers and a side branch B3..B5
// forking after A2 (less work than A6, as much as A5).
type adFix struct {
	g    *chaingen.Generator
	a, b []*types.Block
}

func newADFix() *adFix {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	a := rgExtend(g, g.Genesis.Hash, 6, "A", nil)
	b := rgExtend(g, a[1].Hash(), 3, "B", nil)
	return &adFix{g: g, a: a, b: b}
}

func (f *adFix) open(t testing.TB) *Chain {
	c := rlOpen(t, Config{Genesis: f.g.Genesis})
	rgFeedMain(t, c, f.a...)
	rgFeedSide(t, c, f.b...)
	return c
}

func adNoteTypes(notes []Notification) string {
	var s []string
	for _, n := range notes {
		s = append(s, fmt.Sprintf("%v@%d", n.Type, n.Height))
	}
	return strings.Join(s, " ")
}

func TestInvalidateTipAndReconsider(t *testing.T) {
	f := newADFix()
	c := f.open(t)
	notes := rlRecord(c)
	a6 := f.a[5]
	if err := c.InvalidateBlock(a6.Hash()); err != nil {
		t.Fatal(err)
	}
	// B5 has as much work as A5: the tip stays on A.
	rgCompareFresh(t, c, f.g, f.a[:5])
	if !c.IsKnownInvalid(a6.Hash()) || c.IsMainChain(a6.Hash()) || c.IsKnownInvalid(f.a[4].Hash()) {
		t.Fatal("invalid marks wrong after invalidating the tip")
	}
	rgCheckTxIndex(t, c, f.a[:5], f.a[5:])
	got := notes.take()
	if len(got) != 2 || got[0].Type != BlockDisconnected || got[0].Hash != a6.Hash() ||
		got[1].Type != Reorganized || got[1].Hash != f.a[4].Hash() || got[1].OldTip != a6.Hash() || got[1].Fork != f.a[4].Hash() {
		t.Fatalf("notifications after InvalidateBlock: %s", adNoteTypes(got))
	}

	// A new block on A6 is refused; on A5 it is fine.
	kid := f.g.MustBlock(a6.Hash(), nil)
	_, err := c.ProcessBlock(kid)
	rlExactKind(t, err, ErrKnownInvalid)

	if err := c.ReconsiderBlock(a6.Hash()); err != nil {
		t.Fatal(err)
	}
	rgCompareFresh(t, c, f.g, f.a)
	if c.IsKnownInvalid(a6.Hash()) {
		t.Fatal("still invalid after ReconsiderBlock")
	}
	got = notes.take()
	if len(got) != 1 || got[0].Type != BlockConnected || got[0].Hash != a6.Hash() {
		t.Fatalf("notifications after ReconsiderBlock: %s", adNoteTypes(got))
	}
	mustProcess(t, c, kid)
	checkState(t, c, f.g, kid.Hash())
}

// TestInvalidateMovesToOtherBranch: invalidating A4 leaves A3 with less
// work than the side branch's B5, so the store switches to B5; the
// Reorganized notification describes the whole switch from A6.
func TestInvalidateMovesToOtherBranch(t *testing.T) {
	f := newADFix()
	c := f.open(t)
	notes := rlRecord(c)
	a4 := f.a[3]
	if err := c.InvalidateBlock(a4.Hash()); err != nil {
		t.Fatal(err)
	}
	rgCompareFresh(t, c, f.g, cat(f.a[:2], f.b))
	rgCheckTxIndex(t, c, cat(f.a[:2], f.b), f.a[2:])
	for i, blk := range f.a {
		if got, want := c.IsKnownInvalid(blk.Hash()), i >= 3; got != want {
			t.Fatalf("A%d: IsKnownInvalid %v, want %v", i+1, got, want)
		}
	}
	got := notes.take()
	tip, reorg := rgReplay(t, f.a[5].Hash(), got)
	if tip != rgTip(f.b) || !reorg {
		t.Fatalf("notifications %s lead to %s", adNoteTypes(got), tip)
	}
	if last := got[len(got)-1]; last.Fork != f.a[1].Hash() || last.Hash != rgTip(f.b) {
		t.Fatalf("Reorganized to %s at fork %s, want B5 at A2", last.Hash, last.Fork)
	}

	// Persisted: a restart stays on B.
	dir := c.cfg.Dir
	c.Close()
	c = rlOpen(t, Config{Genesis: f.g.Genesis, Dir: dir})
	rgCompareFresh(t, c, f.g, cat(f.a[:2], f.b))
	if !c.IsKnownInvalid(f.a[5].Hash()) {
		t.Fatal("invalid mark lost in a restart")
	}
	notes = rlRecord(c)

	// Reconsidering A6 clears its ancestors too, and A6 wins again.
	if err := c.ReconsiderBlock(f.a[5].Hash()); err != nil {
		t.Fatal(err)
	}
	rgCompareFresh(t, c, f.g, f.a)
	rgCheckTxIndex(t, c, f.a, f.b)
	got = notes.take()
	rgWantSwitch(t, got, f.a[1].Hash(), f.b, f.a[2:])
}

// TestInvalidateReorganizedNamesOldTip: when InvalidateBlock moves the
// main chain to another branch, the Reorganized notification must name the
// tip before the operation (A6) as OldTip, as it does for a reorganisation
// by ProcessBlock, so that a subscriber can tell which blocks left the
// main chain.
func TestInvalidateReorganizedNamesOldTip(t *testing.T) {
	f := newADFix()
	c := f.open(t)
	notes := rlRecord(c)
	if err := c.InvalidateBlock(f.a[3].Hash()); err != nil {
		t.Fatal(err)
	}
	got := notes.take()
	var reorgs []Notification
	for _, n := range got {
		if n.Type == Reorganized {
			reorgs = append(reorgs, n)
		}
	}
	if len(reorgs) != 1 {
		t.Fatalf("%d Reorganized notifications in %s, want 1", len(reorgs), adNoteTypes(got))
	}
	if r := reorgs[0]; r.OldTip != f.a[5].Hash() || r.Fork != f.a[1].Hash() || r.Hash != rgTip(f.b) {
		name := map[types.Hash]string{}
		for i, b := range f.a {
			name[b.Hash()] = fmt.Sprintf("A%d", i+1)
		}
		for i, b := range f.b {
			name[b.Hash()] = fmt.Sprintf("B%d", i+3)
		}
		t.Errorf("Reorganized{OldTip: %s, Fork: %s, Hash: %s}, want {OldTip: A6, Fork: A2, Hash: B5}",
			name[r.OldTip], name[r.Fork], name[r.Hash])
	}
}

func TestInvalidateSideBlockAndErrors(t *testing.T) {
	f := newADFix()
	c := f.open(t)
	notes := rlRecord(c)
	before := rlSnap(t, c)
	if err := c.InvalidateBlock(f.b[1].Hash()); err != nil {
		t.Fatal(err)
	}
	before.check(t, c)
	if !c.IsKnownInvalid(f.b[1].Hash()) || !c.IsKnownInvalid(f.b[2].Hash()) || c.IsKnownInvalid(f.b[0].Hash()) {
		t.Fatal("side-branch marks wrong")
	}
	if n := notes.take(); len(n) != 0 {
		t.Fatalf("notifications for a side-branch invalidation: %s", adNoteTypes(n))
	}
	// Now invalidating A4 cannot move to B5: B4 and B5 are invalid, and B3
	// has as much work as A3.
	if err := c.InvalidateBlock(f.a[3].Hash()); err != nil {
		t.Fatal(err)
	}
	rgCompareFresh(t, c, f.g, f.a[:3])

	tests := []struct {
		name string
		op   func() error
		kind ErrorKind
	}{
		{"invalidate genesis", func() error { return c.InvalidateBlock(f.g.Genesis.Hash) }, ErrInvalidateGenesis},
		{"invalidate unknown", func() error { return c.InvalidateBlock(types.Hash{1, 2, 3}) }, ErrUnknownBlock},
		{"reconsider unknown", func() error { return c.ReconsiderBlock(types.Hash{1, 2, 3}) }, ErrUnknownBlock},
	}
	before = rlSnap(t, c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { rlExactKind(t, tt.op(), tt.kind) })
		before.check(t, c)
	}
	if c.IsKnownInvalid(f.g.Genesis.Hash) {
		t.Fatal("genesis marked invalid")
	}
}

// adCopyDir copies a closed LevelDB directory.
func adCopyDir(t testing.TB, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// adRaw opens a closed store's directory with LevelDB directly and runs f.
func adRaw(t testing.TB, dir string, f func(db *leveldb.DB)) {
	t.Helper()
	db, err := leveldb.OpenFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	f(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func adMustPut(t testing.TB, db *leveldb.DB, k, v []byte) {
	t.Helper()
	if err := db.Put(k, v, nil); err != nil {
		t.Fatal(err)
	}
}

func adMustDelete(t testing.TB, db *leveldb.DB, k []byte) {
	t.Helper()
	if err := db.Delete(k, nil); err != nil {
		t.Fatal(err)
	}
}

// TestReindexAfterCorruption corrupts a closed store in one way per row:
// opening it fails with ErrCorruptDB and a message that names reindex as
// the recovery, and Reindex rebuilds the same tip, state, indexes and side
// branch.
func TestReindexAfterCorruption(t *testing.T) {
	f := newADFix()
	orig := t.TempDir()
	c := rlOpen(t, Config{Genesis: f.g.Genesis, Dir: orig})
	rgFeedMain(t, c, f.a...)
	rgFeedSide(t, c, f.b...)
	want := map[byte]map[string][]byte{}
	for _, p := range rgRecordPrefixes {
		want[p] = rgRecords(t, c, p)
	}
	victim := f.g.Addrs[2]
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	tipB5 := func(db *leveldb.DB) []byte {
		v, err := db.Get([]byte{prefixTip}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b5 := rgTip(f.b)
		return append(append([]byte(nil), b5[:]...), v[types.HashSize:]...)
	}
	rows := []struct {
		name    string
		corrupt func(db *leveldb.DB)
	}{
		{"account altered", func(db *leveldb.DB) {
			v, err := db.Get(accountKey(victim), nil)
			if err != nil {
				t.Fatal(err)
			}
			v[7]++ // balance + 1
			adMustPut(t, db, accountKey(victim), v)
		}},
		{"account deleted", func(db *leveldb.DB) { adMustDelete(t, db, accountKey(victim)) }},
		{"account added", func(db *leveldb.DB) {
			adMustPut(t, db, accountKey(types.Address{9, 9, 9}), encodeAccount(consensus.Account{Balance: 5}))
		}},
		{"account record truncated", func(db *leveldb.DB) { adMustPut(t, db, accountKey(victim), []byte{1, 2, 3}) }},
		{"tip deleted", func(db *leveldb.DB) { adMustDelete(t, db, []byte{prefixTip}) }},
		{"tip truncated", func(db *leveldb.DB) { adMustPut(t, db, []byte{prefixTip}, make([]byte, 40)) }},
		{"tip names the side branch", func(db *leveldb.DB) { adMustPut(t, db, []byte{prefixTip}, tipB5(db)) }},
		{"tip height record deleted", func(db *leveldb.DB) { adMustDelete(t, db, heightKey(6)) }},
		{"height record above the tip", func(db *leveldb.DB) {
			b5 := rgTip(f.b)
			adMustPut(t, db, heightKey(7), b5[:])
		}},
		{"index record of another block", func(db *leveldb.DB) {
			v, err := db.Get(hashKey(prefixIndex, f.a[2].Hash()), nil)
			if err != nil {
				t.Fatal(err)
			}
			adMustPut(t, db, hashKey(prefixIndex, f.a[3].Hash()), v)
		}},
		{"account and tip both", func(db *leveldb.DB) {
			adMustDelete(t, db, accountKey(victim))
			adMustDelete(t, db, []byte{prefixTip})
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := t.TempDir()
			adCopyDir(t, orig, dir)
			adRaw(t, dir, row.corrupt)
			cfg := Config{Genesis: f.g.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet}
			_, err := Open(cfg)
			rlExactKind(t, err, ErrCorruptDB)
			if !strings.Contains(err.Error(), "reindex") {
				t.Fatalf("error %q does not name the recovery", err)
			}
			c, err := Reindex(cfg)
			if err != nil {
				t.Fatalf("reindex: %v", err)
			}
			t.Cleanup(func() { c.Close() })
			adCheckRebuilt(t, c, f, want)
			// And it opens normally afterwards.
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			c = rlOpen(t, cfg)
			adCheckRebuilt(t, c, f, want)
		})
	}

	// Reindex of a healthy store changes nothing.
	dir := t.TempDir()
	adCopyDir(t, orig, dir)
	c, err := Reindex(Config{Genesis: f.g.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	adCheckRebuilt(t, c, f, want)
}

func adCheckRebuilt(t testing.TB, c *Chain, f *adFix, want map[byte]map[string][]byte) {
	t.Helper()
	checkState(t, c, f.g, rgTip(f.a))
	for _, p := range rgRecordPrefixes {
		got := rgRecords(t, c, p)
		if len(got) != len(want[p]) {
			t.Fatalf("table %c: %d records, want %d", p, len(got), len(want[p]))
		}
		for k, v := range want[p] {
			if string(got[k]) != string(v) {
				t.Fatalf("table %c: record %x is %x, want %x", p, k, got[k], v)
			}
		}
	}
	rgCheckTxIndex(t, c, f.a, f.b)
	for _, b := range f.b {
		if !c.HaveBlock(b.Hash()) || c.IsMainChain(b.Hash()) || c.IsKnownInvalid(b.Hash()) {
			t.Fatalf("side block %d lost or misplaced", b.Header.Height)
		}
	}
	for _, b := range f.a {
		if !c.IsMainChain(b.Hash()) {
			t.Fatalf("A%d not on the main chain", b.Header.Height)
		}
	}
}

func TestGenesisMismatch(t *testing.T) {
	g1 := chaingen.New(chaingen.Options{Accounts: 3})
	g2 := chaingen.New(chaingen.Options{Accounts: 3, ChainID: 99})
	if g1.Genesis.Hash == g2.Genesis.Hash {
		t.Fatal("test networks share a genesis")
	}
	dir := t.TempDir()
	c := rlOpen(t, Config{Genesis: g1.Genesis, Dir: dir})
	blocks := g1.Chain(g1.Genesis.Hash, 3, "x")
	mustProcess(t, c, blocks...)
	c.Close()

	_, err := Open(Config{Genesis: g2.Genesis, Dir: dir, Logger: rlQuiet})
	rlExactKind(t, err, ErrGenesisMismatch)
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the directory", err)
	}
	// The refused open changed nothing.
	c = rlOpen(t, Config{Genesis: g1.Genesis, Dir: dir})
	checkState(t, c, g1, rgTip(blocks))
}

// TestReindexRefusesAnotherNetwork: Reindex given the genesis of another
// network must refuse the directory with ErrGenesisMismatch, as Open does,
// and leave it untouched. It must not delete the directory's index and
// state and rebuild it as the other network.
func TestReindexRefusesAnotherNetwork(t *testing.T) {
	g1 := chaingen.New(chaingen.Options{Accounts: 3})
	g2 := chaingen.New(chaingen.Options{Accounts: 3, ChainID: 99})
	dir := t.TempDir()
	c := rlOpen(t, Config{Genesis: g1.Genesis, Dir: dir})
	blocks := g1.Chain(g1.Genesis.Hash, 3, "x")
	mustProcess(t, c, blocks...)
	c.Close()

	other, err := Reindex(Config{Genesis: g2.Genesis, Dir: dir, Logger: rlQuiet})
	if other != nil {
		other.Close()
	}
	if !errors.Is(err, ErrGenesisMismatch) {
		t.Errorf("Reindex with another network's genesis: err %v, want ErrGenesisMismatch", err)
	}
	c, err = Open(Config{Genesis: g1.Genesis, Dir: dir, Clock: testClock, Logger: rlQuiet})
	if err != nil {
		t.Fatalf("the directory no longer opens for its own network: %v", err)
	}
	defer c.Close()
	checkState(t, c, g1, rgTip(blocks))
}

func TestClosedStore(t *testing.T) {
	f := newADFix()
	c := f.open(t)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	kid := f.g.MustBlock(rgTip(f.a), nil)
	ops := []struct {
		name string
		op   func() error
	}{
		{"ProcessBlock", func() error { _, err := c.ProcessBlock(kid); return err }},
		{"ProcessBlock known", func() error { _, err := c.ProcessBlock(f.a[0]); return err }},
		{"InvalidateBlock", func() error { return c.InvalidateBlock(f.a[3].Hash()) }},
		{"ReconsiderBlock", func() error { return c.ReconsiderBlock(f.a[3].Hash()) }},
		{"StateSnapshot", func() error { _, err := c.StateSnapshot(); return err }},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) { rlExactKind(t, o.op(), ErrClosed) })
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
