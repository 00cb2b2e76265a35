package lobby

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/lobby/internal/discovery"
	"github.com/pumpnet/pumpnet/netcode"
)

// HostedProtocolVersion marks a hosted server's advertisement, so that
// sessions of the same service type never take it for a peer.
const HostedProtocolVersion = 0x8000 | ProtocolVersion

// HostedConfig describes a hosted (PodSixNet-style) server on the LAN.
type HostedConfig struct {
	// Name is shown in clients' server lists: 1..63 bytes of UTF-8.
	Name string
	// ServiceType names the game, as in Config.
	ServiceType string
	// Seats is the number of open seats to advertise (0..255).
	Seats int
	// Interface to advertise on; nil: every multicast-capable interface.
	Interface *net.Interface
}

// Advertiser keeps a hosted server visible on the LAN until Close.
type Advertiser struct {
	ad  discovery.Advertisement
	rec discovery.Record
}

// AdvertiseServer makes srv discoverable by Browse.
func AdvertiseServer(srv *engine.Server, cfg HostedConfig) (*Advertiser, error) {
	return advertiseServer(srv.Addr(), srv.Fingerprint(), cfg, &discovery.MDNS{Interface: cfg.Interface})
}

func advertiseServer(ap netip.AddrPort, fp netcode.Fingerprint, cfg HostedConfig, b discovery.Backend) (*Advertiser, error) {
	if err := ValidateDisplayName(cfg.Name); err != nil {
		return nil, err
	}
	service, err := discovery.ServiceName(cfg.ServiceType)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Seats < 0 || cfg.Seats > 255 {
		return nil, fmt.Errorf("%w: Seats %d outside 0..255", ErrConfig, cfg.Seats)
	}
	id := fp.String()
	rec := discovery.Record{Instance: id[:16], Port: ap.Port(), ID: id, Version: HostedProtocolVersion,
		Seats: cfg.Seats, Name: cfg.Name}
	if ap.Addr().IsValid() && !ap.Addr().IsUnspecified() {
		rec.Addrs = []netip.Addr{ap.Addr().Unmap()}
	}
	ad, err := b.Advertise(context.Background(), service, rec)
	if err != nil {
		return nil, fmt.Errorf("lobby: advertise: %w", err)
	}
	return &Advertiser{ad: ad, rec: rec}, nil
}

// Update changes the advertised players and open seats.
func (a *Advertiser) Update(players, seats int) error {
	if players < 0 || players > 255 || seats < 0 || seats > 255 {
		return fmt.Errorf("%w: players %d / seats %d outside 0..255", ErrConfig, players, seats)
	}
	a.rec.Players, a.rec.Seats = players, seats
	return a.ad.Update(a.rec)
}

// Close stops advertising. Clients notice after a few missed polls.
func (a *Advertiser) Close() error { return a.ad.Stop() }

// ServerInfo is one hosted server found by Browse.
type ServerInfo struct {
	Name        string
	Addr        netip.AddrPort
	Fingerprint netcode.Fingerprint
	Seats       int
	Players     int
}

// ConnectString returns what engine.Connect takes to reach and verify the
// server.
func (s ServerInfo) ConnectString() string { return engine.FormatTarget(s.Addr, s.Fingerprint) }

// BrowseOptions tunes Browse.
type BrowseOptions struct {
	Interface    *net.Interface // nil: every multicast-capable interface
	PollInterval time.Duration  // default 500 ms
}

// Browse lists the hosted servers of a service type on the LAN. The channel
// receives the whole list (sorted by name, then address) whenever it
// changes, and is closed when ctx ends.
//
// The list holds one entry per fingerprint. Discovery reports every
// sighting of a fingerprint (each instance label and port it is advertised
// under), and anyone on the LAN can advertise any fingerprint; listing them
// all would show a game's players duplicates, so the entry is the sighting
// that sorts first by instance label, then port. A neighbour advertising a
// server's fingerprint at its own address under a label that sorts first
// can therefore put its address in that entry: ConnectString pins the
// fingerprint, so connecting then fails the handshake rather than reaching
// the neighbour.
func Browse(ctx context.Context, serviceType string, opts BrowseOptions) (<-chan []ServerInfo, error) {
	return browseServers(ctx, serviceType, opts, &discovery.MDNS{Interface: opts.Interface})
}

func browseServers(ctx context.Context, serviceType string, opts BrowseOptions, b discovery.Backend) (<-chan []ServerInfo, error) {
	service, err := discovery.ServiceName(serviceType)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	in, err := b.Browse(ctx, service, opts.PollInterval)
	if err != nil {
		return nil, fmt.Errorf("lobby: browse: %w", err)
	}
	out := make(chan []ServerInfo, 1)
	go func() {
		defer close(out)
		for recs := range in {
			list := serverList(recs)
			select {
			case <-out: // replace an unread older list
			default:
			}
			out <- list
		}
	}()
	return out, nil
}

// serverList turns browse records into the server list: hosted servers
// with a usable record (see usableRecord), one entry per fingerprint, from
// its first sighting (discovery.CompareRecords) among those; see Browse.
func serverList(recs []discovery.Record) []ServerInfo {
	recs = slices.Clone(recs) // backends sort them; do not rely on it
	slices.SortStableFunc(recs, discovery.CompareRecords)
	list := []ServerInfo{}
	listed := make(map[netcode.Fingerprint]bool)
	for _, r := range recs {
		fp, err := netcode.ParseFingerprint(r.ID)
		if err != nil || r.Version != HostedProtocolVersion || listed[fp] || !usableRecord(r) || r.Players < 0 {
			continue
		}
		ap, ok := pickAddr(r)
		if !ok {
			continue
		}
		listed[fp] = true
		list = append(list, ServerInfo{Name: r.Name, Addr: ap, Fingerprint: fp, Seats: r.Seats, Players: r.Players})
	}
	slices.SortFunc(list, func(a, b ServerInfo) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), a.Addr.Compare(b.Addr))
	})
	return list
}
