// Package types defines the ledger's data formats: hashes, addresses,
// amounts, transactions, block headers and blocks, together with their one
// canonical binary encoding, their hashes, the transaction Merkle root and
// transaction signing.
//
// The same encoding is used for hashing, storage and the wire. Decoders take
// hostile input: every length is checked against its limit before anything is
// allocated, unknown transaction kinds and oversized memos are refused, and
// trailing bytes are an error. The encoding is fixed-width, so every value
// has exactly one encoding: encode(decode(b)) == b for every b a decoder
// accepts. Field values that are well-formed but break a rule (a coinbase
// with a fee, a zero amount) are consensus's business, not the decoder's.
//
// Encoders assume values within the format's limits (a memo of at most
// MaxMemoSize bytes): they are built by this node or were decoded, and
// consensus refuses an oversized memo before anything is hashed for a block.
//
// What it does not do: it knows nothing of consensus parameters, account
// state or storage. Whether a transaction may be applied, or a block extends a
// chain, is decided by package consensus. JSON forms for RPC live with the
// RPC layer.
//
// Signatures: a transfer carries the sender's compressed secp256k1 public key
// and a 64-byte (r || s) ECDSA signature. Only low-S signatures are valid; the
// check is done here because the secp256k1 library accepts high-S. The signed
// data is a tagged SHA-256 over the network's genesis hash and every field of
// the transaction but the signature (the chain id is one of those fields), so
// a transaction signed for another network never verifies here.
//
// Concurrency: values are plain data. Hash methods cache nothing, so values
// may be shared read-only between goroutines; a value must not be mutated
// while another goroutine reads it.
//
// Errors: decoding and signature failures are *Error values carrying an
// ErrorKind; test for a kind with errors.Is(err, types.ErrTrailingBytes).
package types
