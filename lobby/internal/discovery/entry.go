package discovery

import "net"

// svcEntry is one answer a browser hands to the tracker: an instance of
// some service with its SRV target and port, its TXT strings and one
// address. The field names are those of the hashicorp/mdns entry it
// replaced.
type svcEntry struct {
	Name         string // "<instance>.<service>.local."
	Host         string // the SRV target
	Port         int
	InfoFields   []string // the TXT strings
	Info         string   // the TXT strings joined by '|' (unused by the tracker)
	AddrV4       net.IP
	AddrV6       net.IP
	AddrV6IPAddr *net.IPAddr // AddrV6 with the receiving interface as zone
}
