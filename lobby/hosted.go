package lobby

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
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
	ad, err := b.Advertise(service, rec)
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

func serverList(recs []discovery.Record) []ServerInfo {
	list := []ServerInfo{}
	for _, r := range recs {
		fp, err := netcode.ParseFingerprint(r.ID)
		if err != nil || r.Version != HostedProtocolVersion {
			continue
		}
		ap, ok := pickAddr(r)
		if !ok {
			continue
		}
		list = append(list, ServerInfo{Name: r.Name, Addr: ap, Fingerprint: fp, Seats: r.Seats, Players: r.Players})
	}
	slices.SortFunc(list, func(a, b ServerInfo) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		return a.Addr.Compare(b.Addr)
	})
	return list
}
