package mempool

import (
	"time"

	"github.com/ledger-node/ledger/chain/types"
)

// TxState says where a transaction stands, as far as this pool knows.
type TxState int

const (
	// StateUnknown: never seen, or forgotten (history is bounded).
	StateUnknown TxState = iota
	// StatePending: executable now; Position says how many executable
	// transactions pay a higher fee rate (up to MaxPosition).
	StatePending
	// StateQueued: waiting for an earlier nonce of its sender, MissingNonce.
	StateQueued
	// StateRemoved: was in the pool and left it; Reason says why.
	StateRemoved
	// StateRefused: was offered recently and refused; Err says why.
	StateRefused
)

// String names the state.
func (s TxState) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateQueued:
		return "queued"
	case StateRemoved:
		return "removed"
	case StateRefused:
		return "refused"
	}
	return "unknown"
}

// RemovalReason says why a transaction left the pool.
type RemovalReason string

// Removal reasons.
const (
	// ReasonMined: included in a main-chain block (Block, Height).
	ReasonMined = RemovalReason("mined")
	// ReasonReplaced: a transaction with the same sender and nonce and a
	// higher fee took its place (ReplacedBy).
	ReasonReplaced = RemovalReason("replaced")
	// ReasonEvicted: the pool was full and its fee rate was among the
	// lowest, or an earlier nonce of its sender was evicted.
	ReasonEvicted = RemovalReason("evicted")
	// ReasonExpired: it waited longer than Config.MaxAge.
	ReasonExpired = RemovalReason("expired")
	// ReasonInvalidated: the chain moved and it no longer applies (Err
	// holds the consensus failure: a used nonce, an insufficient balance),
	// or it could not be re-admitted after a reorganisation.
	ReasonInvalidated = RemovalReason("invalidated")
)

// TxStatus answers "why is my transaction stuck or gone".
type TxStatus struct {
	State TxState
	// Position (pending): 1 + the number of executable transactions with
	// a higher fee rate, or the same rate and earlier arrival; MaxPosition
	// means at least that. Miners take transactions roughly in this
	// order, subject to nonce order.
	Position int
	// MissingNonce (queued): the sender's next nonce the pool lacks.
	MissingNonce uint64
	// Reason (removed) says why it left.
	Reason RemovalReason
	// Err (refused; removed as invalidated; removed as evicted when the
	// sender's limit or a full pool was the cause) is the typed reason: a
	// *consensus.RuleError or a *PolicyError. Kind(Err) is its stable
	// string.
	Err error
	// Block and Height (mined) locate the block that included it.
	Block  types.Hash
	Height uint32
	// ReplacedBy (replaced) is the id of the replacement.
	ReplacedBy types.Hash
	// Time is when it entered the pool (pending, queued) or when it left
	// or was refused.
	Time time.Time
}

// cheapHistoryMax bounds the memory of refusals decided before the
// signature check (Pool.cheap): they cost the sender nothing, so they get
// a small history of their own rather than a share of the main one.
const cheapHistoryMax = 1024

// history remembers the fate of recently seen transactions: bounded in
// count (oldest forgotten first) and in age. It is owned by Pool and
// guarded by Pool.mu.
type history struct {
	max int
	age time.Duration
	// m maps a transaction id to its latest record.
	m map[types.Hash]histRecord
	// fifo lists ids in insertion order; fifo[head:] is live. An id whose
	// record was overwritten appears again later; the stale occurrence is
	// recognised by its seq.
	fifo []histItem
	head int
	seq  uint64
}

type histRecord struct {
	st  TxStatus
	seq uint64
}

type histItem struct {
	id  types.Hash
	seq uint64
}

func newHistory(max int, age time.Duration) *history {
	return &history{max: max, age: age, m: make(map[types.Hash]histRecord)}
}

func (h *history) put(id types.Hash, st TxStatus) {
	h.seq++
	h.m[id] = histRecord{st: st, seq: h.seq}
	h.fifo = append(h.fifo, histItem{id: id, seq: h.seq})
	for len(h.m) > h.max {
		h.popOldest()
	}
	// Stale fifo items (overwritten records) can accumulate; compact when
	// they dominate so memory stays proportional to max.
	if len(h.fifo)-h.head > 2*h.max+16 {
		live := h.fifo[:0]
		for _, it := range h.fifo[h.head:] {
			if r, ok := h.m[it.id]; ok && r.seq == it.seq {
				live = append(live, it)
			}
		}
		h.fifo, h.head = live, 0
	}
}

func (h *history) popOldest() {
	for h.head < len(h.fifo) {
		it := h.fifo[h.head]
		h.head++
		if r, ok := h.m[it.id]; ok && r.seq == it.seq {
			delete(h.m, it.id)
			break
		}
	}
	if h.head > len(h.fifo)/2 {
		h.fifo = append(h.fifo[:0], h.fifo[h.head:]...)
		h.head = 0
	}
}

// get returns the record of id if it is younger than the age limit.
func (h *history) get(id types.Hash, now time.Time) (TxStatus, bool) {
	r, ok := h.m[id]
	if !ok || now.Sub(r.st.Time) > h.age {
		return TxStatus{}, false
	}
	return r.st, true
}

// prune forgets records older than the age limit, oldest first.
func (h *history) prune(now time.Time) {
	for h.head < len(h.fifo) {
		it := h.fifo[h.head]
		if r, ok := h.m[it.id]; ok && r.seq == it.seq {
			if now.Sub(r.st.Time) <= h.age {
				break
			}
			delete(h.m, it.id)
		}
		h.head++
	}
	if h.head > len(h.fifo)/2 {
		h.fifo = append(h.fifo[:0], h.fifo[h.head:]...)
		h.head = 0
	}
}
