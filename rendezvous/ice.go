package rendezvous

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ICEServer is a STUN or TURN server a member's ICE agent may use, as
// create, join and poll answers carry them. Its JSON form is WebRTC's
// RTCIceServer ("urls", "username", "credential"), so a browser game can
// hand it to RTCPeerConnection as it is; a native one copies the fields
// into webrtc.ICEServer.
type ICEServer struct {
	// URLs are the server's addresses: "stun:host:port",
	// "turn:host:port?transport=udp", "turns:host:port?transport=tcp".
	URLs []string `json:"urls"`
	// Username and Credential are a TURN server's time-limited
	// credential (empty for STUN): username "<expiry unix time>:<member
	// ID>", credential base64(HMAC-SHA1(secret, username)), the TURN REST
	// API scheme that coturn's use-auth-secret accepts.
	Username   string `json:"username,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// Bounds of the ICE servers a Client accepts in an answer.
const (
	// MaxICEServers is the most ICE servers an answer may list (as
	// webrtc.MaxICEServers).
	MaxICEServers = 8
	// maxICEURLs bounds one server's URLs.
	maxICEURLs = 4
	// maxICEURLLen bounds one URL.
	maxICEURLLen = 512
	// maxTURNUsernameLen bounds a TURN username (RFC 8489: under 513
	// bytes); ours are at most 20+1+64.
	maxTURNUsernameLen = 512
	// maxTURNCredentialLen bounds a TURN credential.
	maxTURNCredentialLen = 256
)

// turnCredential returns the TURN REST API credential for member id,
// valid until expires, made with secret.
func turnCredential(secret, id string, expires time.Time) (username, credential string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + id
	return username, turnPassword(secret, username)
}

// turnPassword is base64(HMAC-SHA1(secret, username)).
func turnPassword(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// parseTURNUsername reads a TURN REST API username as the rendezvous makes
// them: "<expiry unix time>:<member ID>" (decimal, 1..19 digits; the ID 64
// lowercase hex digits). It never panics.
func parseTURNUsername(u string) (expires int64, id string, err error) {
	if len(u) > 20+1+idLen {
		return 0, "", fmt.Errorf("username of %d bytes", len(u))
	}
	ts, id, ok := strings.Cut(u, ":")
	if !ok {
		return 0, "", fmt.Errorf("username without ':'")
	}
	if len(ts) == 0 || len(ts) > 19 {
		return 0, "", fmt.Errorf("expiry of %d digits", len(ts))
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return 0, "", fmt.Errorf("expiry is not decimal")
		}
	}
	expires, err = strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, "", err
	}
	if err := checkID(id); err != nil {
		return 0, "", err
	}
	return expires, id, nil
}

// randomSecret returns 32 random bytes in base64, a TURN secret.
func randomSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// checkICEServers checks the ICE servers of an answer: bounded counts and
// lengths, stun:, stuns:, turn: or turns: URLs. It never panics.
func checkICEServers(list []ICEServer) error {
	if len(list) > MaxICEServers {
		return fmt.Errorf("%d ICE servers, at most %d", len(list), MaxICEServers)
	}
	for i, s := range list {
		if len(s.URLs) == 0 || len(s.URLs) > maxICEURLs {
			return fmt.Errorf("ICE server %d has %d URLs, want 1..%d", i, len(s.URLs), maxICEURLs)
		}
		for _, u := range s.URLs {
			if len(u) > maxICEURLLen {
				return fmt.Errorf("ICE server %d: URL of %d bytes", i, len(u))
			}
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				return fmt.Errorf("ICE server %d: %q is not a stun:, stuns:, turn: or turns: URL", i, u)
			}
		}
		if len(s.Username) > maxTURNUsernameLen || len(s.Credential) > maxTURNCredentialLen {
			return fmt.Errorf("ICE server %d: credential over %d/%d bytes", i, maxTURNUsernameLen, maxTURNCredentialLen)
		}
	}
	return nil
}

// cloneICEServers returns a deep copy of list (nil for an empty list).
func cloneICEServers(list []ICEServer) []ICEServer {
	if len(list) == 0 {
		return nil
	}
	out := make([]ICEServer, len(list))
	for i, s := range list {
		out[i] = ICEServer{URLs: append([]string(nil), s.URLs...), Username: s.Username, Credential: s.Credential}
	}
	return out
}

// iceOffered reports whether s hands out any ICE server.
func (s *Server) iceOffered() bool {
	return s.cfg.PublicSTUN != "" || s.cfg.TURN.Public != "" || len(s.cfg.ExternalTURN) > 0
}

// iceServers returns the ICE servers member id gets at now: the
// rendezvous's STUN, its embedded TURN and the external TURN servers, with
// credentials valid for Config.CredentialTTL.
func (s *Server) iceServers(id string, now time.Time) []ICEServer {
	if !s.iceOffered() {
		return nil
	}
	expires := now.Add(s.cfg.CredentialTTL)
	var out []ICEServer
	if s.cfg.PublicSTUN != "" {
		out = append(out, ICEServer{URLs: []string{"stun:" + s.cfg.PublicSTUN}})
	}
	if t := s.cfg.TURN; t.Public != "" {
		u, c := turnCredential(t.Secret, id, expires)
		out = append(out, ICEServer{URLs: []string{"turn:" + t.Public + "?transport=udp"}, Username: u, Credential: c})
	}
	for _, e := range s.cfg.ExternalTURN {
		u, c := turnCredential(e.Secret, id, expires)
		out = append(out, ICEServer{URLs: append([]string(nil), e.URLs...), Username: u, Credential: c})
	}
	return out
}
