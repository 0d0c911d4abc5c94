package types

import (
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// SignTx fills in tx.PubKey and tx.Sig for a transfer on the network whose
// genesis hash is genesis. The signature is deterministic (RFC 6979) and
// low-S.
func SignTx(tx *Tx, key *secp256k1.PrivateKey, genesis Hash) {
	copy(tx.PubKey[:], key.PubKey().SerializeCompressed())
	digest := tx.SigHash(genesis)
	sig := ecdsa.Sign(key, digest[:])
	r, s := sig.R(), sig.S()
	var rb, sb [32]byte
	r.PutBytes(&rb)
	s.PutBytes(&sb)
	copy(tx.Sig[:32], rb[:])
	copy(tx.Sig[32:], sb[:])
}

// ParseSignature reads an (r || s) signature, refusing r or s that are zero
// or not below the group order, and high S (S > N/2): for every valid
// signature (r, s), (r, N-s) is valid too, and accepting both would let
// anyone change a transaction's id.
func ParseSignature(sig *[SignatureSize]byte) (*ecdsa.Signature, error) {
	var r, s secp256k1.ModNScalar
	if overflow := r.SetByteSlice(sig[:32]); overflow || r.IsZero() {
		return nil, errorf(ErrBadSignature, "signature r is zero or not below the group order")
	}
	if overflow := s.SetByteSlice(sig[32:]); overflow || s.IsZero() {
		return nil, errorf(ErrBadSignature, "signature s is zero or not below the group order")
	}
	if s.IsOverHalfOrder() {
		return nil, errorf(ErrHighS, "signature s is in the upper half of the group order (high-S)")
	}
	return ecdsa.NewSignature(&r, &s), nil
}

// VerifyTxSig checks a transfer's signature against the network's genesis
// hash. The sender is the address of tx.PubKey, so a valid signature proves
// the sender. It costs one public-key decompression and one ECDSA
// verification: callers verify in parallel and cache the result.
func VerifyTxSig(tx *Tx, genesis Hash) error {
	return VerifyTxSigWith(tx, genesis, ParsePubKey)
}

// ParsePubKey decompresses a 33-byte public key, refusing anything but a
// compressed point on the curve.
func ParsePubKey(raw *[PubKeySize]byte) (*secp256k1.PublicKey, error) {
	pub, err := secp256k1.ParsePubKey(raw[:])
	if err != nil { // 33 bytes parse only as 0x02/0x03 compressed points
		return nil, errorf(ErrBadPubKey, "public key is not a compressed secp256k1 point")
	}
	return pub, nil
}

// VerifyTxSigWith is VerifyTxSig with the public key parsed by parse,
// which may remember keys already decompressed (a tenth of the cost of a
// verification, and senders repeat). parse must behave as ParsePubKey.
func VerifyTxSigWith(tx *Tx, genesis Hash, parse func(*[PubKeySize]byte) (*secp256k1.PublicKey, error)) error {
	if tx.Kind == TxCoinbase {
		return errorf(ErrBadSignature, "a coinbase carries no signature")
	}
	sig, err := ParseSignature(&tx.Sig)
	if err != nil {
		return err
	}
	pub, err := parse(&tx.PubKey)
	if err != nil {
		return err
	}
	digest := tx.SigHash(genesis)
	if !sig.Verify(digest[:], pub) {
		return errorf(ErrBadSignature, "signature does not verify for this transaction on this network")
	}
	return nil
}
