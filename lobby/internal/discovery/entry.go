package discovery

import "github.com/hashicorp/mdns"

// svcEntry is one answer a browser hands to the tracker: an instance with its
// SRV, TXT and one address.
type svcEntry = mdns.ServiceEntry
