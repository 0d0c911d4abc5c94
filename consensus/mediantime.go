package consensus

import "slices"

// MedianTime returns the median of timestamps: the element at index len/2
// once they are sorted, i.e. the upper of the two middle values for an even
// count, as Bitcoin's GetMedianTimePast. It returns 0 for no timestamps.
// timestamps is not modified.
//
// Header validation passes the parent's timestamp and those of up to
// MedianTimeBlocks-1 of its ancestors (fewer near genesis); a new block's
// time must be strictly greater than the result. A median rather than the
// parent's own time is used so that one miner's clock cannot hold the chain
// back or push it forward alone.
func MedianTime(timestamps []uint64) uint64 {
	n := len(timestamps)
	if n == 0 {
		return 0
	}
	// Sort a copy; for the usual window it lives on the stack.
	var buf [MedianTimeBlocks]uint64
	var s []uint64
	if n <= len(buf) {
		s = buf[:n]
	} else {
		s = make([]uint64, n)
	}
	copy(s, timestamps)
	slices.Sort(s)
	return s[n/2]
}
