module github.com/ledger-node/ledger

go 1.26

require github.com/decred/dcrd/dcrec/secp256k1/v4 v4.4.1

require (
	github.com/golang/snappy v0.0.4 // indirect
	github.com/syndtr/goleveldb v1.0.1-0.20220721030215-126854af5e6d
)
