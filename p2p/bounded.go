package p2p

import "time"

// earliestKey is the key of m whose time, as at reads it from the value,
// is the earliest (the zero K for an empty map). The package's bounded
// maps (bans, gossiped orphans, orphan-relayer cooldowns) evict it to make
// room: the entry that would lapse or go stale first.
func earliestKey[K comparable, V any](m map[K]V, at func(V) time.Time) K {
	var key K
	var first time.Time
	found := false
	for k, v := range m {
		if t := at(v); !found || t.Before(first) {
			key, first, found = k, t, true
		}
	}
	return key
}

// timeItself reads the time of a map whose values are times.
func timeItself(t time.Time) time.Time { return t }
