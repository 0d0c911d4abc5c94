//go:build unix

package wallet

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// dirLocks excludes goroutines of this process (flock is per open file,
// so it alone would not).
var dirLocks sync.Map // dir -> *sync.Mutex

// lockDir takes the store's write lock: a process-wide mutex and an
// exclusive flock on <dir>/.lock for other processes.
func lockDir(dir string) (func(), error) {
	mu, _ := dirLocks.LoadOrStore(dir, new(sync.Mutex))
	m := mu.(*sync.Mutex)
	m.Lock()
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		m.Unlock()
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		m.Unlock()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		m.Unlock()
	}, nil
}
