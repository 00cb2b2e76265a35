//go:build !js

package webrtc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// silentLogs keeps pion quiet: errors reach the application as errors.
var silentLogs = func() *logging.DefaultLoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelDisabled
	return f
}()

// settings is the SettingEngine both sides share: no mDNS (no multicast
// traffic, no .local names), UDP only, loopback candidates allowed (a
// loopback candidate pairs only with loopback), the message size bound
// advertised (a=max-message-size) and enforced on receipt.
func settings(c *config) webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.LoggerFactory = silentLogs
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetIncludeLoopbackCandidate(true)
	if c.IPFilter != nil {
		filter := c.IPFilter
		se.SetIPFilter(func(ip net.IP) bool {
			a, ok := netip.AddrFromSlice(ip)
			return ok && filter(a.Unmap())
		})
	}
	size := uint32(c.MaxMessageSize + seqHeaderLen)
	se.SetSCTPMaxMessageSize(size)
	se.SetSCTPMaxReceiveBufferSize(max(1<<20, 2*size))
	se.SetICETimeouts(c.IdleTimeout/2, c.IdleTimeout, c.KeepAlive)
	return se
}

// newAPI returns the API a client uses.
func newAPI(c *config) *webrtc.API {
	return webrtc.NewAPI(webrtc.WithSettingEngine(settings(c)))
}

// certificateFor turns an identity into a WebRTC certificate, making an
// ECDSA P-256 key if there is none.
func certificateFor(tc *tls.Certificate) (*webrtc.Certificate, Fingerprint, error) {
	if tc == nil {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, Fingerprint{}, fmt.Errorf("webrtc: generate key: %w", err)
		}
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, Fingerprint{}, fmt.Errorf("webrtc: certificate: %w", err)
		}
		tpl := &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{CommonName: "pumpnet"},
			NotBefore:    time.Now().Add(-24 * time.Hour),
			NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
		if err != nil {
			return nil, Fingerprint{}, fmt.Errorf("webrtc: certificate: %w", err)
		}
		tc = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	if len(tc.Certificate) == 0 || tc.PrivateKey == nil {
		return nil, Fingerprint{}, fmt.Errorf("webrtc: Config.Certificate has no certificate or key")
	}
	x, err := x509.ParseCertificate(tc.Certificate[0])
	if err != nil {
		return nil, Fingerprint{}, fmt.Errorf("webrtc: Config.Certificate: %w", err)
	}
	cert := webrtc.CertificateFromX509(tc.PrivateKey, x)
	fp, err := FingerprintOf(x.Raw)
	return &cert, fp, err
}

// clientCertificate is the client's identity: Config.Certificate, or nil
// (pion makes one per peer connection).
func clientCertificate(c *config) (*webrtc.Certificate, error) {
	if c.Certificate == nil {
		return nil, nil
	}
	cert, _, err := certificateFor(c.Certificate)
	return cert, err
}
