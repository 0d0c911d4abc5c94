package p2p

import (
	"crypto/rand"
	"errors"
	"fmt"
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
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(data) > maxKeyFile {
			return nil, fmt.Errorf("identity %s: %d bytes, not a key", path, len(data))
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
