// Package wallet is the node's wallet library: keys, backups, an
// encrypted keystore, addresses and signed transfers. The command line
// wallet is built on it.
//
// What it does:
//
//   - Keys come from crypto/rand as a 24-word BIP-39 English mnemonic
//     (checksum checked on restore); the 64-byte seed is
//     PBKDF2-HMAC-SHA512(mnemonic, "mnemonic"+passphrase, 2048 rounds).
//   - Keys are derived with BIP-32 (own implementation over secp256k1) on
//     the BIP-44 path m/44'/c'/0'/0/i, where the coin type c is
//     CoinType(chainID): SHA-256("ledger/wallet/coin-type/v1" || chainID)
//     read as a big-endian uint32, forced into [2^30, 2^31). One mnemonic
//     (plus passphrase) therefore restores every address of a network.
//   - A Store keeps one file per wallet, <dir>/<name>.wallet, mode 0600:
//     JSON holding the seed encrypted with XChaCha20-Poly1305 under a key
//     from scrypt (N, r, p stored in the file; DefaultKDF for real use,
//     cheap settings for tests). The version, network (chain id, prefix,
//     genesis hash), KDF parameters, salt, nonce, password check and next
//     address index are all bound into the AEAD's additional data. Files
//     are written atomically (temp file, fsync, link or rename, fsync of
//     the directory): a crash leaves the old file or the new one, never a
//     torn one; an existing wallet is never overwritten.
//   - Addresses are bech32 with the network's prefix; ParseAddress tells a
//     wrong network, a bad checksum and a malformed string apart.
//   - BuildTx signs a transfer for a network (chain id and genesis hash)
//     after refusing a zero amount and amount+fee overflow; PrepareTx fills
//     the nonce and fee from a NodeClient, refuses a fee suggested by the
//     node above SendRequest.MaxFee (DefaultMaxFee, 0.01 coin, if zero: a
//     hostile node must not be able to make the wallet sign away the
//     balance as a fee) and refuses spending more than the balance.
//   - Store.Info reads a wallet's network and address count without its
//     password, so a caller can check the network before asking for it.
//
// What it does not do: it talks to no node itself (NodeClient is
// implemented by the caller), keeps no transaction history, does not
// track pending spends against the balance, has no change or internal
// chain (the account model needs none), and does not keep the mnemonic:
// only the seed is stored, so the mnemonic must be written down when it
// is shown. Extended keys serialise with Bitcoin's xprv/xpub version
// bytes for interoperability; the network has none of its own.
//
// Concurrency: Store and Wallet methods are safe for concurrent use.
// Writes to a store directory are serialised by an in-process mutex and,
// on Unix, an flock on <dir>/.lock, so concurrent creation of the same
// name lets exactly one win and concurrent NextAddress calls never hand out
// the same index. ExtendedKey is immutable.
//
// Errors: every error this package makes is an *Error whose Kind is an
// ErrorKind; test with errors.Is(err, wallet.ErrWrongPassword) and so on.
// A wrong password (ErrWrongPassword) is told apart from a damaged or
// tampered file (ErrCorruptKeystore) by a password check value derived from
// the scrypt output; tampering with the salt, KDF parameters or that value
// itself shows as a wrong password. Decoding never panics on any input.
// Operating-system errors (permissions, disk full) are returned as they
// are.
package wallet
