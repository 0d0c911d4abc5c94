//go:build !unix

package wallet

import "sync"

var dirLocks sync.Map // dir -> *sync.Mutex

// lockDir takes the store's write lock. Without flock only goroutines of
// this process are excluded.
func lockDir(dir string) (func(), error) {
	mu, _ := dirLocks.LoadOrStore(dir, new(sync.Mutex))
	m := mu.(*sync.Mutex)
	m.Lock()
	return m.Unlock, nil
}
