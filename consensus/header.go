package consensus

import "github.com/ledger-node/ledger/chain/types"

// HeaderContext is what header validation needs to know of the block a
// header extends. The chain store's block index implements it.
type HeaderContext interface {
	// Hash is the parent's block id.
	Hash() types.Hash
	// Height is the parent's height.
	Height() uint32
	// Timestamp is the parent's header time.
	Timestamp() uint64
	// MedianTimePast is the median of the timestamps of the parent and up
	// to MedianTimeBlocks-1 of its ancestors.
	MedianTimePast() uint64
	// AnchorTime is the timestamp of block 1 on the parent's chain, which
	// anchors the difficulty schedule; unused when the parent is genesis.
	AnchorTime() uint64
}

// CheckHeaderSanity applies the rules a header must meet on its own:
// a known version, a valid target no easier than the limit, and proof of
// work. hash must be h.Hash(); callers compute it once.
func CheckHeaderSanity(h *types.Header, hash types.Hash, p *Params) error {
	if h.Version != HeaderVersion {
		return ruleError(ErrBadVersion, "header version %d, expected %d", h.Version, HeaderVersion)
	}
	return CheckProofOfWork(hash, h.Bits, p.PowLimit)
}

// CheckHeaderContext applies the rules that relate a header to its parent:
// linkage, height, the difficulty the schedule requires, and a timestamp
// after the median time past. It does not check the future-drift rule, which
// depends on local time: see CheckHeaderTime.
func CheckHeaderContext(h *types.Header, parent HeaderContext, p *Params) error {
	if h.PrevBlock != parent.Hash() {
		return ruleError(ErrBadPrevBlock, "header extends %s, not the given parent %s", h.PrevBlock, parent.Hash())
	}
	if h.Height != parent.Height()+1 || parent.Height() == ^uint32(0) {
		return ruleError(ErrBadHeight, "header height %d, parent height %d", h.Height, parent.Height())
	}
	if want := NextRequiredBits(p, parent.AnchorTime(), parent.Height(), parent.Timestamp()); h.Bits != want {
		return ruleError(ErrUnexpectedBits, "header bits %08x, difficulty schedule requires %08x", h.Bits, want)
	}
	if mtp := parent.MedianTimePast(); h.Time <= mtp {
		return ruleError(ErrTimeTooOld, "header time %d is not after the median time past %d", h.Time, mtp)
	}
	return nil
}

// CheckHeaderTime refuses a timestamp more than MaxFutureDrift seconds
// ahead of now (Unix seconds). A header refused only by this rule is not
// invalid for ever: it may be accepted once local time catches up, so
// callers must not mark it invalid.
func CheckHeaderTime(h *types.Header, now uint64, p *Params) error {
	if h.Time > now && h.Time-now > p.MaxFutureDrift {
		return ruleError(ErrTimeTooNew, "header time %d is %d s ahead of local time, at most %d allowed",
			h.Time, h.Time-now, p.MaxFutureDrift)
	}
	return nil
}
