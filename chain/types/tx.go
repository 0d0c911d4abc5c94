package types

import (
	"crypto/sha256"
	"encoding/binary"
)

// TxKind distinguishes transfers from the coinbase.
type TxKind uint8

const (
	// TxTransfer moves coins from the signer's account to another.
	TxTransfer TxKind = 0
	// TxCoinbase pays the block reward to the miner. It is unsigned, must be
	// the first transaction of a block, and its Nonce is the block height so
	// that no two coinbases ever share a hash.
	TxCoinbase TxKind = 1
)

// Transaction format limits.
const (
	// MaxMemoSize is the largest memo a transaction may carry.
	MaxMemoSize = 256
	// SignatureSize is the size of an (r || s) ECDSA signature.
	SignatureSize = 64
	// txFixedSize is the encoded size of the fields common to both kinds:
	// kind, chain id, nonce, recipient, amount, fee, memo length.
	txFixedSize = 1 + 4 + 8 + AddressSize + 8 + 8 + 2
	// MinTxSize is the smallest encoded transaction (a coinbase, no memo).
	MinTxSize = txFixedSize
	// MaxTxSize is the largest encoded transaction.
	MaxTxSize = txFixedSize + MaxMemoSize + PubKeySize + SignatureSize
)

// Tx is a transaction in the account model. A transfer's sender is the
// address of PubKey; Nonce must equal the sender's count of earlier
// transactions. Fields are exported plain data; encode with Encode.
type Tx struct {
	Kind    TxKind
	ChainID uint32
	Nonce   uint64 // sender nonce; for a coinbase, the block height
	To      Address
	Amount  Amount
	Fee     Amount              // zero for a coinbase
	Memo    []byte              // at most MaxMemoSize; for a coinbase, free miner data (extra nonce)
	PubKey  [PubKeySize]byte    // transfer only
	Sig     [SignatureSize]byte // transfer only
}

// IsCoinbase reports whether the transaction is a coinbase.
func (tx *Tx) IsCoinbase() bool { return tx.Kind == TxCoinbase }

// EncodedSize is the length of the canonical encoding.
func (tx *Tx) EncodedSize() int {
	n := txFixedSize + len(tx.Memo)
	if tx.Kind != TxCoinbase {
		n += PubKeySize + SignatureSize
	}
	return n
}

// appendUnsigned appends every field but the signature.
func (tx *Tx) appendUnsigned(b []byte) []byte {
	b = append(b, byte(tx.Kind))
	b = binary.BigEndian.AppendUint32(b, tx.ChainID)
	b = binary.BigEndian.AppendUint64(b, tx.Nonce)
	b = append(b, tx.To[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(tx.Amount))
	b = binary.BigEndian.AppendUint64(b, uint64(tx.Fee))
	b = binary.BigEndian.AppendUint16(b, uint16(len(tx.Memo)))
	b = append(b, tx.Memo...)
	if tx.Kind != TxCoinbase {
		b = append(b, tx.PubKey[:]...)
	}
	return b
}

// AppendEncode appends the canonical encoding of tx to b.
func (tx *Tx) AppendEncode(b []byte) []byte {
	b = tx.appendUnsigned(b)
	if tx.Kind != TxCoinbase {
		b = append(b, tx.Sig[:]...)
	}
	return b
}

// Encode returns the canonical encoding of tx.
func (tx *Tx) Encode() []byte {
	return tx.AppendEncode(make([]byte, 0, tx.EncodedSize()))
}

// Hash is the transaction id: double SHA-256 of the canonical encoding,
// signature included.
func (tx *Tx) Hash() Hash {
	var buf [MaxTxSize]byte
	return DoubleSHA256(tx.AppendEncode(buf[:0]))
}

// Sender is the address of the signing key; zero for a coinbase.
func (tx *Tx) Sender() Address {
	if tx.Kind == TxCoinbase {
		return Address{}
	}
	return AddressFromPubKey(&tx.PubKey)
}

// DecodeTx decodes exactly one transaction; trailing bytes are an error.
func DecodeTx(b []byte) (*Tx, error) {
	r := reader{buf: b}
	tx, err := decodeTx(&r)
	if err != nil {
		return nil, err
	}
	if err := r.finish("transaction"); err != nil {
		return nil, err
	}
	return tx, nil
}

func decodeTx(r *reader) (*Tx, error) {
	tx := new(Tx)
	tx.Kind = TxKind(r.u8("tx kind"))
	if r.err == nil && tx.Kind != TxTransfer && tx.Kind != TxCoinbase {
		return nil, errorf(ErrUnknownTxKind, "unknown transaction kind %d", tx.Kind)
	}
	tx.ChainID = r.u32("tx chain id")
	tx.Nonce = r.u64("tx nonce")
	r.bytes(tx.To[:], "tx recipient")
	tx.Amount = Amount(r.u64("tx amount"))
	tx.Fee = Amount(r.u64("tx fee"))
	memoLen := int(r.u16("tx memo length"))
	if r.err != nil {
		return nil, r.err
	}
	if memoLen > MaxMemoSize {
		return nil, errorf(ErrOverLimit, "memo of %d bytes exceeds %d", memoLen, MaxMemoSize)
	}
	if memoLen > 0 {
		memo := r.take(memoLen, "tx memo")
		if r.err != nil {
			return nil, r.err
		}
		tx.Memo = append([]byte(nil), memo...)
	}
	if tx.Kind != TxCoinbase {
		r.bytes(tx.PubKey[:], "tx public key")
		r.bytes(tx.Sig[:], "tx signature")
	}
	if r.err != nil {
		return nil, r.err
	}
	return tx, nil
}

// sigHashTag separates transaction signatures from any other use of the key.
var sigHashTag = []byte("ledger/tx-signature/v1")

// SigHash is the digest a transfer's signature covers: a tagged SHA-256 of
// the network's genesis hash and every field but the signature (the chain id
// and the public key included).
func (tx *Tx) SigHash(genesis Hash) Hash {
	var buf [len("ledger/tx-signature/v1") + HashSize + MaxTxSize]byte
	b := append(buf[:0], sigHashTag...)
	b = append(b, genesis[:]...)
	b = tx.appendUnsigned(b)
	return sha256.Sum256(b)
}
