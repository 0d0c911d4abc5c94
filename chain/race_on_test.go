//go:build race

package chain

// raceEnabled reports a -race build.
const raceEnabled = true
