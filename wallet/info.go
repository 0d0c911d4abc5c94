package wallet

// Info is what a wallet file tells without its password: the network it
// is bound to and how many addresses it has handed out. Nothing in it is
// authenticated until the wallet is opened: a tampered file can show any
// values here, and Open then refuses it.
type Info struct {
	Name      string
	Network   Network
	NextIndex uint32
}

// Info reads wallet name's unencrypted header (size-checked and decoded
// like Open does, without key derivation), so that a caller can find the
// wallet's network before asking for its password.
func (s *Store) Info(name string) (Info, error) {
	ks, err := s.readKeystore(name)
	if err != nil {
		return Info{}, err
	}
	return Info{Name: name, Network: ks.net, NextIndex: ks.nextIndex}, nil
}
