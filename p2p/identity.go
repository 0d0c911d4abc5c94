package p2p

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/ledger-node/ledger/internal/atomicfile"
)

// maxKeyFile bounds the identity file read from disk.
const maxKeyFile = 4096

// LoadOrCreateIdentity reads the node's Ed25519 key from path, or creates
// one (mode 0600, written to a temporary file and renamed so a crash never
// leaves half a key).
func LoadOrCreateIdentity(path string) (crypto.PrivKey, error) {
	data, err := readBounded(path, maxKeyFile)
	switch {
	case err == nil:
		if len(data) > maxKeyFile {
			return nil, fmt.Errorf("identity %s: more than %d bytes, not a key", path, maxKeyFile)
		}
		key, err := crypto.UnmarshalPrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("identity %s: %w (delete it to make a new identity)", path, err)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("identity %s: %w", path, err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, raw, 0o600); err != nil {
		return nil, fmt.Errorf("identity %s: %w", path, err)
	}
	return key, nil
}

// readBounded reads at most max+1 bytes of path, so that a file larger
// than max is noticed without reading (or allocating) all of it.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}
