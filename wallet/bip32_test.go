package wallet

import (
	"testing"
)

type bip32File struct {
	Vectors []struct {
		Seed   string `json:"seed"`
		Chains []struct {
			Path string `json:"path"`
			XPub string `json:"xpub"`
			XPrv string `json:"xprv"`
		} `json:"chains"`
	} `json:"vectors"`
}

func TestBIP32Vectors(t *testing.T) {
	var f bip32File
	loadJSON(t, "testdata/bip32_vectors.json", &f)
	if len(f.Vectors) != 2 {
		t.Fatalf("%d vectors", len(f.Vectors))
	}
	for vi, v := range f.Vectors {
		m, err := MasterKey(mustHex(t, v.Seed))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.Chains {
			path, err := ParsePath(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			if FormatPath(path) != c.Path {
				t.Errorf("FormatPath = %s, want %s", FormatPath(path), c.Path)
			}
			k, err := m.Derive(path)
			if err != nil {
				t.Fatalf("vector %d %s: %v", vi+1, c.Path, err)
			}
			if got := k.String(); got != c.XPrv {
				t.Errorf("vector %d %s: xprv\n got %s\nwant %s", vi+1, c.Path, got, c.XPrv)
			}
			if got := k.Neuter().String(); got != c.XPub {
				t.Errorf("vector %d %s: xpub\n got %s\nwant %s", vi+1, c.Path, got, c.XPub)
			}
			// Parsing round trips.
			for _, s := range []string{c.XPrv, c.XPub} {
				p, err := ParseExtendedKey(s)
				if err != nil || p.String() != s {
					t.Errorf("ParseExtendedKey(%s) = %v, %v", s, p, err)
				}
			}
			// Public derivation of normal children agrees with private.
			if len(path) > 0 && path[len(path)-1] < HardenedOffset {
				parent, _ := m.Derive(path[:len(path)-1])
				pc, err := parent.Neuter().Child(path[len(path)-1])
				if err != nil || pc.String() != c.XPub {
					t.Errorf("vector %d %s: CKDpub = %v, %v", vi+1, c.Path, pc, err)
				}
			}
		}
	}
}

func TestBIP32Errors(t *testing.T) {
	m, err := MasterKey(mustHex(t, "000102030405060708090a0b0c0d0e0f"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Neuter().Child(HardenedOffset)
	wantKind(t, err, ErrBadPath)
	for _, n := range []int{0, 15, 65} {
		_, err := MasterKey(make([]byte, n))
		wantKind(t, err, ErrBadSeed)
	}
	for _, p := range []string{"", "M", "m/", "m//1", "m/01", "m/+1", "m/-1", "m/2147483648", "m/1''", "m/x", "/0", "m/0/ 1", "m/4294967295"} {
		_, err := ParsePath(p)
		wantKind(t, err, ErrBadPath)
	}
	for _, tc := range []struct {
		in   string
		want []uint32
	}{
		{"m", []uint32{}},
		{"m/0", []uint32{0}},
		{"m/44'/1h/2H/3", []uint32{44 + HardenedOffset, 1 + HardenedOffset, 2 + HardenedOffset, 3}},
		{"m/2147483647'", []uint32{1<<32 - 1}},
	} {
		got, err := ParsePath(tc.in)
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("ParsePath(%q) = %v, %v", tc.in, got, err)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParsePath(%q) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
	good := m.String()
	for _, s := range []string{"", "xprv", good[:len(good)-1], good[:len(good)-1] + "j", "0" + good[1:], good + "1"} {
		_, err := ParseExtendedKey(s)
		wantKind(t, err, ErrBadExtendedKey)
	}
}
