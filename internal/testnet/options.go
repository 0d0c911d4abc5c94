package testnet

import (
	"fmt"
	"net"
	"slices"
	"strings"
)

// Defaults and limits of the command's flags.
const (
	DefaultNodes     = 3
	DefaultBlockTime = 5 // seconds
	DefaultBasePort  = 17400
	DefaultHost      = "127.0.0.1"
	// MaxNodes bounds the nodes of one testnet: each is a process with
	// its own store, miner and connections to every other.
	MaxNodes = 32
	// MaxBlockTime is the longest block time accepted, in seconds.
	MaxBlockTime = 3600
	// minBasePort keeps the nodes off the privileged ports.
	minBasePort = 1024
)

// Flag names, as the command spells them; Conflicts reports them.
const (
	FlagNodes     = "nodes"
	FlagMiners    = "miners"
	FlagBlockTime = "block-time"
	FlagBasePort  = "base-port"
	FlagHost      = "host"
)

// Options are the command's settings. Node i listens for peers on
// Host:BasePort+2i (TCP) and serves JSON-RPC on 127.0.0.1:BasePort+2i+1;
// the first Miners nodes mine with one thread each.
type Options struct {
	Nodes  int
	Miners int
	// Dir holds the whole network; empty means a fresh temporary
	// directory.
	Dir string
	// BlockTime is the target spacing of blocks, in whole seconds.
	BlockTime int
	BasePort  int
	// Host is the IP address the nodes listen on for peers. 127.0.0.1
	// keeps the network on this machine; this machine's LAN address (or
	// 0.0.0.0) lets other machines join.
	Host string
}

// DefaultOptions are the command's defaults: 3 nodes, all mining, 5 s
// blocks, ports from 17400, peers on loopback.
func DefaultOptions() Options {
	return Options{Nodes: DefaultNodes, Miners: DefaultNodes, BlockTime: DefaultBlockTime,
		BasePort: DefaultBasePort, Host: DefaultHost}
}

// Validate checks every setting and says which is wrong and why.
func (o Options) Validate() error {
	if o.Nodes < 1 || o.Nodes > MaxNodes {
		return errorf(ErrBadOptions, "--%s %d: want 1 to %d", FlagNodes, o.Nodes, MaxNodes)
	}
	if o.Miners < 0 || o.Miners > o.Nodes {
		return errorf(ErrBadOptions, "--%s %d: want 0 to the number of nodes (%d)", FlagMiners, o.Miners, o.Nodes)
	}
	if o.BlockTime < 1 || o.BlockTime > MaxBlockTime {
		return errorf(ErrBadOptions, "--%s %d: want 1 to %d seconds", FlagBlockTime, o.BlockTime, MaxBlockTime)
	}
	if last := o.BasePort + 2*o.Nodes - 1; o.BasePort < minBasePort || last > 65535 {
		return errorf(ErrBadOptions, "--%s %d: the %d nodes need ports %d to %d; want ports from %d to 65535",
			FlagBasePort, o.BasePort, o.Nodes, o.BasePort, last, minBasePort)
	}
	if _, err := hostIP(o.Host); err != nil {
		return err
	}
	return nil
}

// hostIP parses the --host value: an IPv4 or IPv6 address of this machine
// (not a name: multiaddrs need the address), or the unspecified address
// to listen on every interface.
func hostIP(host string) (net.IP, error) {
	ip := net.ParseIP(strings.TrimSpace(host))
	if ip == nil || ip.IsMulticast() || ip.Equal(net.IPv4bcast) {
		return nil, errorf(ErrBadOptions, "--%s %q: want an IP address of this machine, such as 127.0.0.1 or 192.168.1.10", FlagHost, host)
	}
	return ip, nil
}

// ipProto is the multiaddr protocol of ip.
func ipProto(ip net.IP) string {
	if ip.To4() != nil {
		return "ip4"
	}
	return "ip6"
}

// listenAddr is the multiaddr node i listens on for peers.
func (o Options) listenAddr(i int) string {
	ip, _ := hostIP(o.Host)
	return fmt.Sprintf("/%s/%s/tcp/%d", ipProto(ip), ip, o.p2pPort(i))
}

// dialAddr is the multiaddr other nodes of this machine dial node i on
// (without /p2p/): the listen address, or loopback when listening on every
// interface.
func (o Options) dialAddr(i int) string {
	ip, _ := hostIP(o.Host)
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		} else {
			ip = net.IPv6loopback
		}
	}
	return fmt.Sprintf("/%s/%s/tcp/%d", ipProto(ip), ip, o.p2pPort(i))
}

func (o Options) p2pPort(i int) int { return o.BasePort + 2*i }

// rpcAddr is node i's JSON-RPC address: always loopback.
func (o Options) rpcAddr(i int) string { return fmt.Sprintf("127.0.0.1:%d", o.BasePort+2*i+1) }

// Conflicts compares the options given on a restart with those of the
// existing network and names every flag in changed (the flags the user
// set) whose value differs. Flags the user did not set take the network's
// values silently.
func Conflicts(existing, given Options, changed []string) error {
	var diffs []string
	check := func(flag string, have, want any) {
		if slices.Contains(changed, flag) && have != want {
			diffs = append(diffs, fmt.Sprintf("--%s %v (the network has %v)", flag, want, have))
		}
	}
	check(FlagNodes, existing.Nodes, given.Nodes)
	check(FlagMiners, existing.Miners, given.Miners)
	check(FlagBlockTime, existing.BlockTime, given.BlockTime)
	check(FlagBasePort, existing.BasePort, given.BasePort)
	if slices.Contains(changed, FlagHost) {
		a, _ := hostIP(existing.Host)
		b, err := hostIP(given.Host)
		if err != nil || !a.Equal(b) {
			diffs = append(diffs, fmt.Sprintf("--%s %v (the network has %v)", FlagHost, given.Host, existing.Host))
		}
	}
	if len(diffs) > 0 {
		return errorf(ErrConflict, "%s already holds a testnet; restarting it keeps its settings, but %s; "+
			"leave these flags out to restart it, or use another --dir for a new network", existing.Dir, strings.Join(diffs, ", "))
	}
	return nil
}
