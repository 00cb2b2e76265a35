package discovery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is an in-memory Backend: a registry shared by everything that
// advertises and browses on the same *Memory, for tests and for games that
// run several peers in one process. Nothing touches the network.
//
// It runs through the same TXT encoding, validation, filtering and
// aggregation as MDNS: every poll turns each advertisement of every service
// into the entries the MDNS browser delivers (one per address). A
// stopped advertisement is gone at the next poll (Memory browses with one
// missed poll). Browse loops use the time package, so they run on fake time
// inside a testing/synctest bubble. Memory is safe for concurrent use; its
// zero value is not usable, call NewMemory.
type Memory struct {
	mu    sync.Mutex
	ads   map[*memoryAd]struct{}
	stats counters
}

// NewMemory returns an empty registry.
func NewMemory() *Memory {
	return &Memory{ads: make(map[*memoryAd]struct{})}
}

// memoryAd is one advertisement; its fields are guarded by Memory.mu.
type memoryAd struct {
	m       *Memory
	service string
	rec     Record
	txt     []string
}

// Advertise registers r under service until the Advertisement is stopped.
// Besides the checks of Backend.Advertise, r needs at least one address.
// It does not block; an ended ctx is an error matching ctx.Err().
func (m *Memory) Advertise(ctx context.Context, service string, r Record) (Advertisement, error) {
	txt, err := prepareMemory(service, r)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovery: advertise: %w", err)
	}
	ad := &memoryAd{m: m, service: service, rec: cloneRecords([]Record{r})[0], txt: txt}
	m.mu.Lock()
	m.ads[ad] = struct{}{}
	m.mu.Unlock()
	return ad, nil
}

func prepareMemory(service string, r Record) ([]string, error) {
	txt, err := prepare(service, r)
	if err != nil {
		return nil, err
	}
	if len(r.Addrs) == 0 {
		return nil, invalid("no address (Memory needs Record.Addrs)")
	}
	return txt, nil
}

// Update replaces the advertised record.
func (ad *memoryAd) Update(r Record) error {
	txt, err := prepareMemory(ad.service, r)
	if err != nil {
		return err
	}
	m := ad.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ads[ad]; !ok {
		return ErrStopped
	}
	ad.rec, ad.txt = cloneRecords([]Record{r})[0], txt
	return nil
}

// Stop removes the advertisement from the registry.
func (ad *memoryAd) Stop() error {
	ad.m.mu.Lock()
	delete(ad.m.ads, ad)
	ad.m.mu.Unlock()
	return nil
}

// Browse polls the registry every interval (0 means DefaultInterval; any
// positive interval is allowed); see Backend.Browse.
func (m *Memory) Browse(ctx context.Context, service string, interval time.Duration) (<-chan []Record, error) {
	if err := checkService(service); err != nil {
		return nil, err
	}
	interval, err := browseInterval(interval, 0)
	if err != nil {
		return nil, err
	}
	return browse(ctx, interval, newTracker(service, 1), m.poll, &m.stats, nil), nil
}

// poll returns the entries of every advertisement of every service, so
// that the tracker's service filter is exercised too.
func (m *Memory) poll(context.Context) ([]*svcEntry, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var entries []*svcEntry
	for ad := range m.ads {
		for _, a := range ad.rec.Addrs {
			entries = append(entries, fakeEntry(ad.rec.Instance, ad.service, ad.rec.Port, ad.txt, a))
		}
	}
	// Map order is random; the tracker does not depend on it, but a fixed
	// order keeps runs reproducible.
	slices.SortStableFunc(entries, func(a, b *svcEntry) int { return strings.Compare(a.Name, b.Name) })
	return entries, 0
}

// Stats returns what Memory's browsers saw so far. Safe for concurrent use.
func (m *Memory) Stats() Stats { return m.stats.stats() }
