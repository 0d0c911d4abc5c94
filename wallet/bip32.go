package wallet

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/ripemd160" //nolint:staticcheck // BIP-32 fingerprints are defined with RIPEMD-160
)

// HardenedOffset is added to an index for a hardened child (i' = i + 2^31).
const HardenedOffset uint32 = 1 << 31

// ExtendedKey is a BIP-32 extended key over secp256k1: a private or public
// key with its chain code and position in the tree. It is immutable.
type ExtendedKey struct {
	priv      *secp256k1.PrivateKey // nil for a public key
	pub       *secp256k1.PublicKey
	chainCode [32]byte
	depth     uint8
	parentFP  [4]byte
	childNum  uint32
}

// MasterKey derives the master extended private key from a seed of 16 to
// 64 bytes: HMAC-SHA512 with key "Bitcoin seed".
func MasterKey(seed []byte) (*ExtendedKey, error) {
	if len(seed) < 16 || len(seed) > 64 {
		return nil, errorf(ErrBadSeed, "seed is %d bytes; BIP-32 takes 16 to 64", len(seed))
	}
	mac := hmac.New(sha512.New, []byte("Bitcoin seed"))
	mac.Write(seed)
	I := mac.Sum(nil)
	var k secp256k1.ModNScalar
	if overflow := k.SetByteSlice(I[:32]); overflow || k.IsZero() {
		return nil, errorf(ErrBadSeed, "seed gives an invalid master key")
	}
	priv := secp256k1.NewPrivateKey(&k)
	x := &ExtendedKey{priv: priv, pub: priv.PubKey()}
	copy(x.chainCode[:], I[32:])
	return x, nil
}

// IsPrivate reports whether the key can sign.
func (x *ExtendedKey) IsPrivate() bool { return x.priv != nil }

// PrivateKey returns the private key, or nil for a public extended key.
func (x *ExtendedKey) PrivateKey() *secp256k1.PrivateKey { return x.priv }

// PublicKey returns the public key.
func (x *ExtendedKey) PublicKey() *secp256k1.PublicKey { return x.pub }

// ChainCode returns the chain code.
func (x *ExtendedKey) ChainCode() [32]byte { return x.chainCode }

// Depth is 0 for the master key, 1 for its children, ...
func (x *ExtendedKey) Depth() uint8 { return x.depth }

// ChildNumber is the index this key was derived with (0 for the master).
func (x *ExtendedKey) ChildNumber() uint32 { return x.childNum }

// Fingerprint is the first 4 bytes of HASH160 of the compressed public key.
func (x *ExtendedKey) Fingerprint() [4]byte {
	sum := sha256.Sum256(x.pub.SerializeCompressed())
	r := ripemd160.New()
	r.Write(sum[:])
	var fp [4]byte
	copy(fp[:], r.Sum(nil))
	return fp
}

// Neuter returns the public extended key.
func (x *ExtendedKey) Neuter() *ExtendedKey {
	n := *x
	n.priv = nil
	return &n
}

// Child derives child i: hardened if i >= HardenedOffset (private keys
// only), normal otherwise. In the (below 2^-127) case that the child is
// invalid it returns ErrInvalidChild and the caller uses the next index.
func (x *ExtendedKey) Child(i uint32) (*ExtendedKey, error) {
	if x.depth == 255 {
		return nil, errorf(ErrBadPath, "derivation deeper than 255 levels")
	}
	hardened := i >= HardenedOffset
	if hardened && x.priv == nil {
		return nil, errorf(ErrBadPath, "a public key has no hardened child %d'", i-HardenedOffset)
	}
	data := make([]byte, 0, 37)
	if hardened {
		var kb [32]byte
		x.priv.Key.PutBytes(&kb)
		data = append(append(data, 0), kb[:]...)
	} else {
		data = append(data, x.pub.SerializeCompressed()...)
	}
	data = binary.BigEndian.AppendUint32(data, i)
	mac := hmac.New(sha512.New, x.chainCode[:])
	mac.Write(data)
	I := mac.Sum(nil)
	var il secp256k1.ModNScalar
	if overflow := il.SetByteSlice(I[:32]); overflow {
		return nil, errorf(ErrInvalidChild, "child %d is invalid (I_L >= n)", i)
	}
	child := &ExtendedKey{depth: x.depth + 1, parentFP: x.Fingerprint(), childNum: i}
	copy(child.chainCode[:], I[32:])
	if x.priv != nil {
		k := il
		k.Add(&x.priv.Key)
		if k.IsZero() {
			return nil, errorf(ErrInvalidChild, "child %d is invalid (zero key)", i)
		}
		child.priv = secp256k1.NewPrivateKey(&k)
		child.pub = child.priv.PubKey()
		return child, nil
	}
	// K_i = point(I_L) + K_par.
	var p, q, sum secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&il, &p)
	x.pub.AsJacobian(&q)
	secp256k1.AddNonConst(&p, &q, &sum)
	if (sum.X.IsZero() && sum.Y.IsZero()) || sum.Z.IsZero() {
		return nil, errorf(ErrInvalidChild, "child %d is invalid (point at infinity)", i)
	}
	sum.ToAffine()
	child.pub = secp256k1.NewPublicKey(&sum.X, &sum.Y)
	return child, nil
}

// Derive follows a path of indexes from x.
func (x *ExtendedKey) Derive(path []uint32) (*ExtendedKey, error) {
	k := x
	for _, i := range path {
		var err error
		if k, err = k.Child(i); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// ParsePath reads a path such as "m/44'/1234'/0'/0/7" ("h" or "H" may
// stand for "'"). "m" alone is the empty path.
func ParsePath(s string) ([]uint32, error) {
	parts := strings.Split(s, "/")
	if parts[0] != "m" {
		return nil, errorf(ErrBadPath, "path %q does not start with m", s)
	}
	path := make([]uint32, 0, len(parts)-1)
	for _, p := range parts[1:] {
		hardened := false
		if n := len(p); n > 0 && (p[n-1] == '\'' || p[n-1] == 'h' || p[n-1] == 'H') {
			hardened, p = true, p[:n-1]
		}
		if p == "" || (len(p) > 1 && p[0] == '0') || p[0] == '+' {
			return nil, errorf(ErrBadPath, "path %q has a malformed index %q", s, p)
		}
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil || uint32(v) >= HardenedOffset {
			return nil, errorf(ErrBadPath, "path %q has an index %q that is not below 2^31", s, p)
		}
		i := uint32(v)
		if hardened {
			i += HardenedOffset
		}
		path = append(path, i)
	}
	return path, nil
}

// FormatPath renders a path as "m/44'/…".
func FormatPath(path []uint32) string {
	var sb strings.Builder
	sb.WriteString("m")
	for _, i := range path {
		sb.WriteByte('/')
		if i >= HardenedOffset {
			sb.WriteString(strconv.FormatUint(uint64(i-HardenedOffset), 10))
			sb.WriteByte('\'')
		} else {
			sb.WriteString(strconv.FormatUint(uint64(i), 10))
		}
	}
	return sb.String()
}

// Version bytes of serialised extended keys. This network defines none of
// its own; the Bitcoin mainnet ones ("xprv", "xpub") serve for export and
// interoperability tests.
var (
	VersionXPrv = [4]byte{0x04, 0x88, 0xad, 0xe4}
	VersionXPub = [4]byte{0x04, 0x88, 0xb2, 0x1e}
)

// Serialize returns the 78-byte BIP-32 serialisation with the xprv or xpub
// version.
func (x *ExtendedKey) Serialize() []byte {
	b := make([]byte, 0, 78)
	if x.priv != nil {
		b = append(b, VersionXPrv[:]...)
	} else {
		b = append(b, VersionXPub[:]...)
	}
	b = append(b, x.depth)
	b = append(b, x.parentFP[:]...)
	b = binary.BigEndian.AppendUint32(b, x.childNum)
	b = append(b, x.chainCode[:]...)
	if x.priv != nil {
		var kb [32]byte
		x.priv.Key.PutBytes(&kb)
		b = append(append(b, 0), kb[:]...)
	} else {
		b = append(b, x.pub.SerializeCompressed()...)
	}
	return b
}

// String is the Base58Check form ("xprv…" or "xpub…"). It reveals the
// private key of a private extended key.
func (x *ExtendedKey) String() string { return base58CheckEncode(x.Serialize()) }

// ParseExtendedKey reads a Base58Check xprv or xpub.
func ParseExtendedKey(s string) (*ExtendedKey, error) {
	b, err := base58CheckDecode(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 78 {
		return nil, errorf(ErrBadExtendedKey, "extended key is %d bytes, want 78", len(b))
	}
	x := &ExtendedKey{depth: b[4], childNum: binary.BigEndian.Uint32(b[9:13])}
	copy(x.parentFP[:], b[5:9])
	copy(x.chainCode[:], b[13:45])
	if x.depth == 0 && (x.childNum != 0 || x.parentFP != [4]byte{}) {
		return nil, errorf(ErrBadExtendedKey, "master key with a parent or child number")
	}
	var ver [4]byte
	copy(ver[:], b[:4])
	switch ver {
	case VersionXPrv:
		if b[45] != 0 {
			return nil, errorf(ErrBadExtendedKey, "private key data does not start with 0x00")
		}
		var k secp256k1.ModNScalar
		if overflow := k.SetByteSlice(b[46:78]); overflow || k.IsZero() {
			return nil, errorf(ErrBadExtendedKey, "private key is zero or not below the group order")
		}
		x.priv = secp256k1.NewPrivateKey(&k)
		x.pub = x.priv.PubKey()
	case VersionXPub:
		pub, err := secp256k1.ParsePubKey(b[45:78])
		if err != nil || (b[45] != 2 && b[45] != 3) {
			return nil, errorf(ErrBadExtendedKey, "public key is not a compressed secp256k1 point")
		}
		x.pub = pub
	default:
		return nil, errorf(ErrBadExtendedKey, "unknown version %x", ver)
	}
	return x, nil
}
