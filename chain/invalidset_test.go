package chain

import (
	"encoding/binary"
	"testing"

	"github.com/ledger-node/ledger/chain/types"
)

// TestInvalidSetBounded: the set of refused, unstored blocks holds at most
// maxRememberedInvalid hashes, forgets the oldest first, counts a repeated
// hash once, and clear forgets everything.
func TestInvalidSetBounded(t *testing.T) {
	h := func(i int) types.Hash {
		var x types.Hash
		binary.BigEndian.PutUint64(x[:], uint64(i)+1)
		return x
	}
	s := newInvalidSet()
	for i := 0; i < maxRememberedInvalid; i++ {
		s.add(h(i))
	}
	s.add(h(0)) // already held: must not take a second slot
	if len(s.set) != maxRememberedInvalid || len(s.order) != maxRememberedInvalid {
		t.Fatalf("full set: %d hashes, %d slots; want %d", len(s.set), len(s.order), maxRememberedInvalid)
	}
	// Two more: the two oldest go, in order.
	s.add(h(maxRememberedInvalid))
	s.add(h(maxRememberedInvalid + 1))
	for i, want := range map[int]bool{0: false, 1: false, 2: true, maxRememberedInvalid - 1: true,
		maxRememberedInvalid: true, maxRememberedInvalid + 1: true} {
		if got := s.has(h(i)); got != want {
			t.Errorf("hash %d remembered = %v, want %v", i, got, want)
		}
	}
	if len(s.set) != maxRememberedInvalid {
		t.Fatalf("after eviction: %d hashes, want %d", len(s.set), maxRememberedInvalid)
	}
	s.clear()
	if s.has(h(2)) || len(s.set) != 0 {
		t.Fatal("clear left hashes behind")
	}
	s.add(h(7))
	if !s.has(h(7)) {
		t.Fatal("set unusable after clear")
	}
}
