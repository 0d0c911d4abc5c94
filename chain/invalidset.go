package chain

import (
	"sync"

	"github.com/ledger-node/ledger/chain/types"
)

// maxRememberedInvalid bounds the memory of invalid blocks that were never
// stored (those failing header-context or sanity rules, and their
// descendants). Beyond it the oldest is forgotten: forgetting costs only a
// repeated check, since proof of work is checked before this set is
// consulted for anything new.
const maxRememberedInvalid = 16_384

// invalidSet remembers hashes of blocks refused for a permanent reason
// without being stored, so a resubmission, or a child, is refused at once
// instead of being validated again or waiting in the orphan pool for a
// parent that will never connect. Safe for concurrent use.
type invalidSet struct {
	mu sync.Mutex
	// set and order are guarded by mu; order lists set's keys oldest
	// first, as a ring of maxRememberedInvalid slots.
	set   map[types.Hash]struct{}
	order []types.Hash
	next  int
}

func newInvalidSet() *invalidSet {
	return &invalidSet{set: make(map[types.Hash]struct{})}
}

func (s *invalidSet) add(h types.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[h]; ok {
		return
	}
	if len(s.order) < maxRememberedInvalid {
		s.order = append(s.order, h)
	} else {
		delete(s.set, s.order[s.next])
		s.order[s.next] = h
		s.next = (s.next + 1) % maxRememberedInvalid
	}
	s.set[h] = struct{}{}
}

func (s *invalidSet) has(h types.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[h]
	return ok
}

// clear forgets every hash.
func (s *invalidSet) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set = make(map[types.Hash]struct{})
	s.order, s.next = nil, 0
}
