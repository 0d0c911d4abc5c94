package p2p

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Sync progress lines and the figures operators (and metrics) read about
// the network's height.

// progressTimeConstant is how quickly the blocks/s of the progress lines
// follows changes: each window's rate is folded into the session's with
// weight 1-exp(-window/progressTimeConstant), so a burst or a pause moves
// the figure (and the remaining time) over half a minute or so, not at
// every line.
const progressTimeConstant = 30 * time.Second

// maxRemaining: estimates beyond this are reported as such rather than as
// a duration nobody can act on.
const maxRemaining = 1000 * time.Hour

// smoothRate folds the rate of the last window (blocks connected in
// window) into the session's running rate prev; first says prev is not
// set yet (the session's first window), and the window's rate is then
// taken as it is.
func smoothRate(prev float64, first bool, blocks int64, window time.Duration) float64 {
	if window <= 0 {
		return prev
	}
	cur := float64(blocks) / window.Seconds()
	if first {
		return cur
	}
	w := 1 - math.Exp(-window.Seconds()/progressTimeConstant.Seconds())
	return prev + w*(cur-prev)
}

// progressPercent is height as a percentage of target with one decimal,
// rounded down so that "100.0" means done.
func progressPercent(height, target uint32) string {
	if target == 0 || height >= target {
		return "100.0"
	}
	tenths := uint64(height) * 1000 / uint64(target)
	return fmt.Sprintf("%d.%d", tenths/10, tenths%10)
}

// remainingTime estimates how long the blocks from height to target take
// at rate blocks/s: "0s" when there are none left, "unknown" at a rate of
// zero, seconds under an hour ("2m10s"), minutes above ("3h25m").
func remainingTime(height, target uint32, rate float64) string {
	if height >= target {
		return "0s"
	}
	if !(rate > 0) || math.IsInf(rate, 0) {
		return "unknown"
	}
	secs := float64(target-height) / rate
	if secs > maxRemaining.Seconds() {
		return "over " + formatHours(maxRemaining)
	}
	d := time.Duration(secs * float64(time.Second))
	if d < time.Hour {
		return d.Round(time.Second).String()
	}
	return formatHours(d)
}

// formatHours is d to the minute, without Go's trailing "0s".
func formatHours(d time.Duration) string {
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

// BestKnownHeight is the highest chain height a connected peer announced
// (in its status or since, by relaying a block), 0 with no peers: the
// figure node_syncStatus compares the tip with.
func (n *Node) BestKnownHeight() uint32 {
	var best uint32
	for _, p := range n.host.Network().Peers() {
		if st, ok := n.peers.status(p); ok {
			best = max(best, st.Height)
		}
	}
	return best
}

// PeerCount is the number of connected peers.
func (n *Node) PeerCount() int { return len(n.host.Network().Peers()) }
