package miner

import (
	"time"

	"github.com/ledger-node/ledger/chain/types"
)

// MeasureHashRate hashes nonces on the calling goroutine for about d with
// the kernel the mining threads use (midstate, two compressions per nonce)
// and returns the hashes per second of one thread. Tools that choose a
// difficulty for a new network (ledgerd testnet) call it for a fraction of
// a second instead of trusting a figure measured on another machine.
//
// clock is read before and after each chunk of nonces; nil means
// time.Now. At least one chunk is hashed whatever d is, so the result is
// always positive. It is safe for concurrent use (nothing is shared), but
// concurrent calls measure each other's load.
func MeasureHashRate(d time.Duration, clock func() time.Time) float64 {
	if clock == nil {
		clock = time.Now
	}
	var hdr types.Header
	hdr.Version, hdr.Height, hdr.Time = 1, 1, 1_700_000_000
	for i := range hdr.PrevBlock {
		hdr.PrevBlock[i], hdr.TxRoot[i] = byte(i), byte(7*i)
	}
	enc := hdr.Encode()
	h := newHasher()
	h.setHeader(&enc)
	var target [32]byte // zero: met by no hash in practice
	start := clock()
	var hashed uint64
	for {
		h.scan(uint32(hashed), chunk, &target)
		hashed += chunk
		if elapsed := clock().Sub(start); elapsed >= d {
			if elapsed <= 0 {
				// A clock too coarse to see one chunk: count the chunk
				// as taking a nanosecond rather than dividing by zero.
				elapsed = time.Nanosecond
			}
			return float64(hashed) / elapsed.Seconds()
		}
	}
}
