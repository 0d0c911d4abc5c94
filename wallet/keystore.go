package wallet

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"

	"github.com/ledger-node/ledger/chain/types"
)

// Keystore format constants.
const (
	// KeystoreVersion is the version of the file format written.
	KeystoreVersion = 1
	// MaxKeystoreSize bounds a keystore file; larger files are refused
	// before they are read.
	MaxKeystoreSize = 16 << 10
	// KeystoreExt is the file name extension of a wallet.
	KeystoreExt = ".wallet"

	kdfName    = "scrypt"
	cipherName = "xchacha20-poly1305"
	saltSize   = 32
	checkSize  = 32
	adTag      = "ledger/wallet/keystore/v1"
	checkTag   = "ledger/wallet/password-check/v1"
)

// KDFParams are the scrypt cost parameters: N = 2^LogN, r, p.
type KDFParams struct {
	LogN uint8  `json:"logN"`
	R    uint32 `json:"r"`
	P    uint32 `json:"p"`
}

// DefaultKDF costs 256 MiB of memory and about a second: N=2^18, r=8, p=1.
var DefaultKDF = KDFParams{LogN: 18, R: 8, P: 1}

// Validate refuses parameters scrypt cannot use or that would make a
// hostile file allocate more than 1 GiB or run for hours: 1 <= LogN <= 22,
// 1 <= r <= 32, 1 <= p <= 16, 128*r*N <= 1 GiB.
func (k KDFParams) Validate() error {
	if k.LogN < 1 || k.LogN > 22 || k.R < 1 || k.R > 32 || k.P < 1 || k.P > 16 {
		return errorf(ErrBadParams, "scrypt parameters logN=%d r=%d p=%d out of range", k.LogN, k.R, k.P)
	}
	if uint64(128)*uint64(k.R)<<k.LogN > 1<<30 {
		return errorf(ErrBadParams, "scrypt parameters logN=%d r=%d need more than 1 GiB", k.LogN, k.R)
	}
	return nil
}

// keystoreJSON is the file: every field but the ciphertext is also bound
// into the AEAD's additional data (see additionalData).
type keystoreJSON struct {
	Version   int         `json:"version"`
	Network   networkJSON `json:"network"`
	KDF       kdfJSON     `json:"kdf"`
	Cipher    cipherJSON  `json:"cipher"`
	Check     string      `json:"passwordCheck"`
	NextIndex uint32      `json:"nextIndex"`
	Data      string      `json:"ciphertext"`
}

type networkJSON struct {
	ChainID     uint32 `json:"chainId"`
	Prefix      string `json:"prefix"`
	GenesisHash string `json:"genesisHash"`
}

type kdfJSON struct {
	Name string `json:"name"`
	KDFParams
	Salt string `json:"salt"`
}

type cipherJSON struct {
	Name  string `json:"name"`
	Nonce string `json:"nonce"`
}

// keystore is a decoded, structurally valid keystore file.
type keystore struct {
	net        Network
	kdf        KDFParams
	salt       []byte
	nonce      []byte
	check      []byte
	nextIndex  uint32
	ciphertext []byte
}

func corrupt(format string, args ...any) error { return errorf(ErrCorruptKeystore, format, args...) }

func hexField(name, s string, size int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != size || s != strings.ToLower(s) {
		return nil, corrupt("keystore field %s is not %d bytes of lowercase hex", name, size)
	}
	return b, nil
}

// decodeKeystore parses and checks a keystore file's structure; it never
// panics and does no key derivation.
func decodeKeystore(data []byte) (*keystore, error) {
	if len(data) > MaxKeystoreSize {
		return nil, corrupt("keystore is %d bytes, more than %d", len(data), MaxKeystoreSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f keystoreJSON
	if err := dec.Decode(&f); err != nil {
		return nil, wrapf(ErrCorruptKeystore, err, "keystore is not valid JSON (truncated?)")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, corrupt("trailing data after the keystore")
	}
	if f.Version != KeystoreVersion {
		return nil, corrupt("keystore version %d is not supported (want %d)", f.Version, KeystoreVersion)
	}
	if f.KDF.Name != kdfName || f.Cipher.Name != cipherName {
		return nil, corrupt("keystore uses kdf %q and cipher %q; want %q and %q", f.KDF.Name, f.Cipher.Name, kdfName, cipherName)
	}
	if err := f.KDF.KDFParams.Validate(); err != nil {
		return nil, corrupt("keystore %s", err.(*Error).Description)
	}
	ks := &keystore{kdf: f.KDF.KDFParams, nextIndex: f.NextIndex}
	ks.net = Network{ChainID: f.Network.ChainID, Prefix: f.Network.Prefix}
	gh, err := hexField("network.genesisHash", f.Network.GenesisHash, types.HashSize)
	if err != nil {
		return nil, err
	}
	copy(ks.net.GenesisHash[:], gh)
	if err := ks.net.Validate(); err != nil {
		return nil, corrupt("keystore %s", err.(*Error).Description)
	}
	if ks.salt, err = hexField("kdf.salt", f.KDF.Salt, saltSize); err != nil {
		return nil, err
	}
	if ks.nonce, err = hexField("cipher.nonce", f.Cipher.Nonce, chacha20poly1305.NonceSizeX); err != nil {
		return nil, err
	}
	if ks.check, err = hexField("passwordCheck", f.Check, checkSize); err != nil {
		return nil, err
	}
	if ks.ciphertext, err = hexField("ciphertext", f.Data, SeedSize+chacha20poly1305.Overhead); err != nil {
		return nil, err
	}
	if ks.nextIndex > MaxAddressIndex+1 {
		return nil, corrupt("keystore next index %d is out of range", ks.nextIndex)
	}
	return ks, nil
}

func (ks *keystore) encode() []byte {
	f := keystoreJSON{
		Version: KeystoreVersion,
		Network: networkJSON{ChainID: ks.net.ChainID, Prefix: ks.net.Prefix, GenesisHash: hex.EncodeToString(ks.net.GenesisHash[:])},
		KDF:     kdfJSON{Name: kdfName, KDFParams: ks.kdf, Salt: hex.EncodeToString(ks.salt)},
		Cipher:  cipherJSON{Name: cipherName, Nonce: hex.EncodeToString(ks.nonce)},
		Check:   hex.EncodeToString(ks.check), NextIndex: ks.nextIndex,
		Data: hex.EncodeToString(ks.ciphertext),
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	return append(b, '\n')
}

// additionalData binds every header field into the AEAD, in a fixed binary
// layout independent of JSON formatting.
func (ks *keystore) additionalData() []byte {
	b := []byte(adTag)
	b = binary.BigEndian.AppendUint32(b, KeystoreVersion)
	b = binary.BigEndian.AppendUint32(b, ks.net.ChainID)
	b = append(b, byte(len(ks.net.Prefix)))
	b = append(b, ks.net.Prefix...)
	b = append(b, ks.net.GenesisHash[:]...)
	b = append(b, kdfName...)
	b = append(b, ks.kdf.LogN)
	b = binary.BigEndian.AppendUint32(b, ks.kdf.R)
	b = binary.BigEndian.AppendUint32(b, ks.kdf.P)
	b = append(b, ks.salt...)
	b = append(b, cipherName...)
	b = append(b, ks.nonce...)
	b = append(b, ks.check...)
	b = binary.BigEndian.AppendUint32(b, ks.nextIndex)
	return b
}

// deriveKeys runs scrypt: the first 32 bytes are the cipher key, the hash of
// the last 32 the password check (so a wrong password is told apart from a
// tampered file; it gives an attacker nothing the ciphertext does not).
func deriveKeys(password []byte, salt []byte, k KDFParams) (encKey, check []byte, err error) {
	out, err := scrypt.Key(password, salt, 1<<k.LogN, int(k.R), int(k.P), 64)
	if err != nil {
		return nil, nil, wrapf(ErrBadParams, err, "scrypt")
	}
	sum := sha256.Sum256(append([]byte(checkTag), out[32:]...))
	return out[:32], sum[:], nil
}

// seal encrypts seed under encKey with a fresh nonce.
func (ks *keystore) seal(encKey, seed []byte) error {
	ks.nonce = make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(ks.nonce); err != nil {
		return err
	}
	aead, err := chacha20poly1305.NewX(encKey)
	if err != nil {
		return err
	}
	ks.ciphertext = aead.Seal(nil, ks.nonce, seed, ks.additionalData())
	return nil
}

// open checks the password and decrypts the seed.
func (ks *keystore) open(password []byte) (seed, encKey []byte, err error) {
	encKey, check, err := deriveKeys(password, ks.salt, ks.kdf)
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(check, ks.check) != 1 {
		return nil, nil, errorf(ErrWrongPassword, "wrong password")
	}
	aead, err := chacha20poly1305.NewX(encKey)
	if err != nil {
		return nil, nil, err
	}
	seed, err = aead.Open(nil, ks.nonce, ks.ciphertext, ks.additionalData())
	if err != nil {
		return nil, nil, corrupt("keystore fails authentication: it has been tampered with or damaged")
	}
	return seed, encKey, nil
}

// authenticate checks the file's authentication tag with an already
// derived key, so that no field (the next index included) was altered.
func (ks *keystore) authenticate(encKey []byte) error {
	aead, err := chacha20poly1305.NewX(encKey)
	if err != nil {
		return err
	}
	if _, err := aead.Open(nil, ks.nonce, ks.ciphertext, ks.additionalData()); err != nil {
		return corrupt("keystore fails authentication: it has been tampered with or damaged")
	}
	return nil
}

// Store is a directory of wallets, one file per wallet named
// <name>.wallet. Its methods are safe for concurrent use, and writers in
// other processes are excluded with a lock file where the OS supports it.
type Store struct {
	dir string
}

// NewStore opens (creating with mode 0700 if needed) a wallet directory.
func NewStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Store{dir: abs}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// ValidName reports whether name can name a wallet: 1 to 64 ASCII letters,
// digits, '-' or '_', not starting with '-'.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Path is the file of wallet name.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name+KeystoreExt) }

func (s *Store) checkName(name string) error {
	if !ValidName(name) {
		return errorf(ErrBadName, "wallet name %q must be 1 to 64 letters, digits, '-' or '_'", name)
	}
	return nil
}

// List returns the names of the wallets in the store, sorted.
func (s *Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), KeystoreExt)
		if ok && e.Type().IsRegular() && ValidName(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Create encrypts seed under password into a new wallet file and returns
// the open wallet. An existing wallet of that name is never overwritten
// (ErrWalletExists). The file appears complete or not at all.
func (s *Store) Create(name string, password []byte, net Network, seed []byte, kdf KDFParams) (*Wallet, error) {
	if err := s.checkName(name); err != nil {
		return nil, err
	}
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if err := kdf.Validate(); err != nil {
		return nil, err
	}
	if len(seed) != SeedSize {
		return nil, errorf(ErrBadSeed, "seed is %d bytes, want %d", len(seed), SeedSize)
	}
	if _, err := MasterKey(seed); err != nil {
		return nil, err
	}
	ks := &keystore{net: net, kdf: kdf, salt: make([]byte, saltSize)}
	if _, err := rand.Read(ks.salt); err != nil {
		return nil, err
	}
	encKey, check, err := deriveKeys(password, ks.salt, kdf)
	if err != nil {
		return nil, err
	}
	ks.check = check
	if err := ks.seal(encKey, seed); err != nil {
		return nil, err
	}
	unlock, err := lockDir(s.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := writeNew(s.dir, s.Path(name), ks.encode()); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, errorf(ErrWalletExists, "wallet %q already exists; it is not overwritten", name)
		}
		return nil, err
	}
	return &Wallet{store: s, name: name, net: net, seed: append([]byte(nil), seed...), encKey: encKey, ks: ks}, nil
}

// CreateFromMnemonic checks the mnemonic, derives its seed with the
// BIP-39 passphrase and creates a wallet from it.
func (s *Store) CreateFromMnemonic(name string, password []byte, net Network, mnemonic, passphrase string, kdf KDFParams) (*Wallet, error) {
	seed, err := MnemonicToSeed(mnemonic, passphrase)
	if err != nil {
		return nil, err
	}
	return s.Create(name, password, net, seed, kdf)
}

// readKeystore reads and decodes a wallet file, checking its size first.
func (s *Store) readKeystore(name string) (*keystore, error) {
	if err := s.checkName(name); err != nil {
		return nil, err
	}
	// Lstat first: opening a FIFO or device would block or read forever.
	if st, err := os.Lstat(s.Path(name)); err == nil && !st.Mode().IsRegular() {
		return nil, corrupt("wallet file %s is not a regular file", s.Path(name))
	}
	f, err := os.Open(s.Path(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errorf(ErrWalletNotFound, "no wallet %q in %s", name, s.dir)
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > MaxKeystoreSize {
		return nil, corrupt("wallet file %s is not a regular file of at most %d bytes", s.Path(name), MaxKeystoreSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxKeystoreSize+1))
	if err != nil {
		return nil, err
	}
	return decodeKeystore(data)
}

// Open decrypts wallet name with password for network net. A wallet of
// another network is refused with ErrWrongNetwork before any key
// derivation; a wrong password gives ErrWrongPassword; a damaged or
// tampered file ErrCorruptKeystore.
func (s *Store) Open(name string, password []byte, net Network) (*Wallet, error) {
	ks, err := s.readKeystore(name)
	if err != nil {
		return nil, err
	}
	if ks.net != net {
		return nil, errorf(ErrWrongNetwork, "wallet %q is for chain %d prefix %q genesis %s, not chain %d prefix %q genesis %s",
			name, ks.net.ChainID, ks.net.Prefix, ks.net.GenesisHash, net.ChainID, net.Prefix, net.GenesisHash)
	}
	seed, encKey, err := ks.open(password)
	if err != nil {
		return nil, err
	}
	return &Wallet{store: s, name: name, net: net, seed: seed, encKey: encKey, ks: ks}, nil
}

// writeNew writes data to path atomically and only if path does not exist:
// temp file, fsync, hard link (which fails if path exists), fsync dir.
func writeNew(dir, path string, data []byte) error {
	tmp, err := writeTemp(dir, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return err
	}
	return syncDir(dir)
}

// replaceFile writes data over path atomically: temp file, fsync, rename,
// fsync dir.
func replaceFile(dir, path string, data []byte) error {
	tmp, err := writeTemp(dir, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-wallet-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", err
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
