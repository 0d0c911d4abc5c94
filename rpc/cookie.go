package rpc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CookieFile is the token file's name in the data directory.
const CookieFile = "rpc.cookie"

// CookiePath is the token file of a data directory.
func CookiePath(dataDir string) string { return filepath.Join(dataDir, CookieFile) }

// NewToken returns 32 random bytes in hex.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// WriteCookie makes a new random token and writes it to
// <dataDir>/rpc.cookie with mode 0600, replacing any earlier one; the node
// calls it at every start when no token is configured.
func WriteCookie(dataDir string) (string, error) {
	tok, err := NewToken()
	if err != nil {
		return "", err
	}
	path := CookiePath(dataDir)
	tmp, err := os.CreateTemp(dataDir, CookieFile+".tmp*")
	if err != nil {
		return "", fmt.Errorf("rpc cookie: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("rpc cookie: %w", err)
	}
	if _, err := tmp.WriteString(tok + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("rpc cookie: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("rpc cookie: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("rpc cookie: %w", err)
	}
	return tok, nil
}

// maxCookieSize bounds what ReadCookie reads: a token is 64 hex digits
// and a newline.
const maxCookieSize = 1 << 10

// ReadCookie reads the token a node wrote to its data directory, for
// clients on the same machine.
func ReadCookie(dataDir string) (string, error) {
	f, err := os.Open(CookiePath(dataDir))
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCookieSize+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxCookieSize {
		return "", fmt.Errorf("rpc cookie %s is larger than %d bytes", CookiePath(dataDir), maxCookieSize)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("rpc cookie %s is empty", CookiePath(dataDir))
	}
	return tok, nil
}

// RemoveCookie deletes the token file (on shutdown).
func RemoveCookie(dataDir string) error {
	err := os.Remove(CookiePath(dataDir))
	if os.IsNotExist(err) {
		return nil
	}
	return err
}
