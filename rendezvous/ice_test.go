package rendezvous

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

var iceConfig = Config{
	PublicSTUN: "rdv.example.org:7777",
	TURN:       TURNConfig{Public: "203.0.113.5:3478", Secret: "embedded secret", Realm: "example.org"},
	ExternalTURN: []ExternalTURN{{
		URLs:   []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"},
		Secret: "coturn secret",
	}},
}

// hmacSHA1 is the TURN REST API password, computed here from the draft's
// definition rather than by the package's code.
func hmacSHA1(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkCredential checks one TURN entry against the TURN REST API scheme:
// username "<expiry>:<id>", password base64(HMAC-SHA1(secret, username)),
// and that pion/turn's own REST API handler accepts it.
func checkCredential(t *testing.T, s ICEServer, secret, id string, expires time.Time) {
	t.Helper()
	if want := fmt.Sprintf("%d:%s", expires.Unix(), id); s.Username != want {
		t.Fatalf("username %q, want %q", s.Username, want)
	}
	if want := hmacSHA1(secret, s.Username); s.Credential != want {
		t.Fatalf("credential %q, want %q", s.Credential, want)
	}
	auth := turn.LongTermTURNRESTAuthHandler(secret, quietLogs.NewLogger("test"))
	user, key, ok := auth(&turn.RequestAttributes{Username: s.Username, Realm: "r", Method: stun.MethodAllocate})
	if !ok || user != id || !slices.Equal(key, turn.GenerateAuthKey(s.Username, "r", s.Credential)) {
		t.Fatalf("pion/turn's REST API handler refuses %+v (user %q, ok %v)", s, user, ok)
	}
}

// TestICEServersInAnswers: create and join answers carry the rendezvous's
// STUN, its embedded TURN and the external TURN, with credentials for the
// member's proven ID valid for CredentialTTL; polls bring fresh ones once a
// third of the TTL has passed, and not before.
func TestICEServersInAnswers(t *testing.T) {
	cfg := iceConfig
	cfg.PollTimeout = 100 * time.Millisecond
	cfg.MemberTimeout = time.Hour
	s, hs := newTestServer(t, cfg)
	clock := &fakeClock{t: time.Now()}
	s.now = clock.now
	host, err := newClient(t, hs.URL, nil).Create(ctxT(t), "game", false, Record{})
	if err != nil {
		t.Fatal(err)
	}
	guest, err := newClient(t, hs.URL, nil).Join(ctxT(t), host.Code, Record{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(r *Room, at time.Time) {
		t.Helper()
		got := r.ICEServers()
		if len(got) != 3 {
			t.Fatalf("%d ICE servers, want 3: %+v", len(got), got)
		}
		if !slices.Equal(got[0].URLs, []string{"stun:rdv.example.org:7777"}) || got[0].Username != "" || got[0].Credential != "" {
			t.Fatalf("STUN entry %+v", got[0])
		}
		if !slices.Equal(got[1].URLs, []string{"turn:203.0.113.5:3478?transport=udp"}) {
			t.Fatalf("embedded TURN entry %+v", got[1])
		}
		checkCredential(t, got[1], "embedded secret", r.ID, at.Add(10*time.Minute))
		if !slices.Equal(got[2].URLs, iceConfig.ExternalTURN[0].URLs) {
			t.Fatalf("external TURN entry %+v", got[2])
		}
		checkCredential(t, got[2], "coturn secret", r.ID, at.Add(10*time.Minute))
	}
	start := clock.now()
	check(host, start)
	check(guest, start)

	// A copy: changing it changes nothing.
	host.ICEServers()[1].URLs[0] = "x"
	check(host, start)

	clock.add(3 * time.Minute) // under 10 min / 3
	if _, err := guest.Poll(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	check(guest, start)
	clock.add(21 * time.Second) // 3 min 21 s: over a third
	for range 2 {               // the first answers after PollTimeout with fresh ones; the second changes nothing
		if _, err := guest.Poll(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	check(guest, clock.now())
}

// TestNoICEServersOffered: a server configured without STUN or TURN
// answers no ice_servers at all.
func TestNoICEServersOffered(t *testing.T) {
	_, hs := newTestServer(t, Config{})
	room, err := newClient(t, hs.URL, nil).Create(ctxT(t), "game", false, Record{})
	if err != nil {
		t.Fatal(err)
	}
	if got := room.ICEServers(); got != nil {
		t.Fatalf("ICE servers %+v from a server offering none", got)
	}
}

// TestNonMembersGetNoCredentials: no answer but a successful create or
// join (and a member's poll) carries credentials: not a nonce, the list,
// a join with an unknown code or a bad proof, a full room, or the poll of
// a member that left.
func TestNonMembersGetNoCredentials(t *testing.T) {
	cfg := iceConfig
	cfg.MaxMembers = 1
	_, hs := newTestServer(t, cfg)
	owner := newClient(t, hs.URL, nil)
	room, err := owner.Create(ctxT(t), "game", true, Record{})
	if err != nil {
		t.Fatal(err)
	}
	if len(room.ICEServers()) != 3 {
		t.Fatal("the creator got no credentials")
	}
	outsider := newClient(t, hs.URL, nil)
	p, err := outsider.prove(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	badSig := p
	badSig.Sig = append([]byte(nil), p.Sig...)
	badSig.Sig[len(badSig.Sig)-1] ^= 1
	p2, err := outsider.prove(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	left, err := newClient(t, hs.URL, nil).Create(ctxT(t), "game", false, Record{})
	if err != nil {
		t.Fatal(err)
	}
	if err := left.Leave(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for name, req := range map[string]struct {
		path string
		body []byte
	}{
		"nonce":        {"/v1/nonce", []byte(`{}`)},
		"unknown code": {"/v1/join", mustJSON(joinRequest{Code: "ZZZZZZ", Proof: p})},
		"bad proof":    {"/v1/join", mustJSON(joinRequest{Code: room.Code, Proof: badSig})},
		"full room":    {"/v1/join", mustJSON(joinRequest{Code: room.Code, Proof: p2})},
		"left member":  {"/v1/poll", mustJSON(pollRequest{Token: left.token})},
		"no token":     {"/v1/poll", []byte(`{"token":""}`)},
	} {
		code, _, body := post(t, nil, hs.URL+req.path, req.body)
		if code == 200 && name != "nonce" {
			t.Errorf("%s: HTTP 200: %s", name, body)
		}
		if strings.Contains(string(body), "ice_servers") || strings.Contains(string(body), "credential") {
			t.Errorf("%s: answer carries credentials: %s", name, body)
		}
	}
	resp, err := hs.Client().Get(hs.URL + "/v1/rooms?service=game")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if strings.Contains(sb.String(), "ice_servers") || strings.Contains(sb.String(), "credential") {
		t.Errorf("the room list carries credentials: %s", sb.String())
	}
}

func TestICEConfigChecks(t *testing.T) {
	for name, cfg := range map[string]Config{
		"TURN settings without Public": {TURN: TURNConfig{Secret: "x"}},
		"Public not host:port":         {TURN: TURNConfig{Public: "203.0.113.5"}},
		"a name without RelayIP":       {TURN: TURNConfig{Public: "turn.example.org:3478"}},
		"unspecified RelayIP":          {TURN: TURNConfig{Public: "0.0.0.0:3478"}},
		"ports reversed":               {TURN: TURNConfig{Public: "203.0.113.5:3478", MinPort: 50000, MaxPort: 40000}},
		"lifetime over an hour":        {TURN: TURNConfig{Public: "203.0.113.5:3478", Lifetime: 2 * time.Hour}},
		"negative bound":               {TURN: TURNConfig{Public: "203.0.113.5:3478", MaxAllocations: -1}},
		"external without secret":      {ExternalTURN: []ExternalTURN{{URLs: []string{"turn:x:3478"}}}},
		"external stun URL":            {ExternalTURN: []ExternalTURN{{URLs: []string{"stun:x:3478"}, Secret: "s"}}},
		"external without URL":         {ExternalTURN: []ExternalTURN{{Secret: "s"}}},
		"seven externals":              {ExternalTURN: slices.Repeat([]ExternalTURN{{URLs: []string{"turn:x:3478"}, Secret: "s"}}, 7)},
		"TTL under two poll timeouts":  {CredentialTTL: 40 * time.Second},
		"PublicSTUN without port":      {PublicSTUN: "rdv.example.org"},
	} {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := NewServer(Config{TURN: TURNConfig{Public: "turn.example.org:3478", RelayIP: mustAddr("203.0.113.5")}})
	if err != nil {
		t.Fatal(err)
	}
	if tc := s.cfg.TURN; tc.MinPort != 49152 || tc.MaxPort != 65535 || tc.Realm != "pumpnet" || len(tc.Secret) < 32 ||
		tc.MaxAllocations != 1024 || tc.MaxAllocationsPerMember != 16 || tc.MaxAllocationsPerIP != 64 ||
		tc.Lifetime != 10*time.Minute || tc.RelayBind.String() != "0.0.0.0" || s.cfg.CredentialTTL != 10*time.Minute {
		t.Fatalf("defaults %+v", tc)
	}
	s2, _ := NewServer(Config{TURN: TURNConfig{Public: "203.0.113.5:3478"}})
	if s2.cfg.TURN.Secret == s.cfg.TURN.Secret {
		t.Fatal("two servers generated the same TURN secret")
	}
	if err := (&Server{}).ServeTURN(nil); err == nil {
		t.Fatal("ServeTURN ran without Config.TURN.Public")
	}
}

func TestDefaultAllowPeer(t *testing.T) {
	for a, want := range map[string]bool{
		"203.0.113.7": true, "8.8.8.8": true, "2001:db8::1": true,
		"127.0.0.1": false, "10.1.2.3": false, "192.168.1.10": false, "172.16.0.1": false,
		"169.254.1.1": false, "0.0.0.0": false, "224.0.0.1": false, "::1": false, "fd00::1": false,
		"fe80::1": false, "::ffff:127.0.0.1": false, "::ffff:192.168.0.1": false,
	} {
		if got := defaultAllowPeer(mustAddr(a)); got != want {
			t.Errorf("defaultAllowPeer(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestParseTURNUsername(t *testing.T) {
	id := strings.Repeat("ab", 32)
	if exp, got, err := parseTURNUsername("1700000000:" + id); err != nil || exp != 1700000000 || got != id {
		t.Fatalf("parse: %d %q %v", exp, got, err)
	}
	for _, u := range []string{
		"", ":" + id, "1700000000", "1700000000:", "17x0:" + id, "-1:" + id, "+1:" + id,
		"1700000000:" + strings.ToUpper(id), "1700000000:" + id + ":x", "99999999999999999999:" + id,
		"1700000000:" + id[:63], strings.Repeat("1", 100) + ":" + id,
	} {
		if _, _, err := parseTURNUsername(u); err == nil {
			t.Errorf("parseTURNUsername(%q) accepted", u)
		}
	}
}

func FuzzParseTURNUsername(f *testing.F) {
	f.Add("1700000000:" + strings.Repeat("0", 64))
	f.Add("1:" + strings.Repeat("f", 64))
	f.Add("x:y:z")
	f.Fuzz(func(t *testing.T, u string) {
		exp, id, err := parseTURNUsername(u)
		if err != nil {
			return
		}
		if checkID(id) != nil || exp < 0 || u != fmt.Sprintf("%d:%s", exp, id) && !strings.HasPrefix(u, "0") {
			t.Fatalf("accepted %q as %d, %q", u, exp, id)
		}
	})
}

// FuzzICEServersAnswer: what a Client accepts of an answer's ice_servers
// is within the bounds, whatever the bytes.
func FuzzICEServersAnswer(f *testing.F) {
	f.Add([]byte(`{"code":"ABCDEF","id":"x","token":"t","ice_servers":[{"urls":["stun:a:1"]},{"urls":["turn:a:1?transport=udp"],"username":"1:x","credential":"c"}]}`))
	f.Add([]byte(`{"roster":1,"ice_servers":[{"urls":[]}]}`))
	f.Add([]byte(`{"ice_servers":[{"urls":["http://x"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp pollResponse
		if jsonUnmarshal(data, &resp) != nil || checkICEServers(resp.ICEServers) != nil {
			return
		}
		if len(resp.ICEServers) > MaxICEServers {
			t.Fatalf("%d servers accepted", len(resp.ICEServers))
		}
		for _, s := range resp.ICEServers {
			if len(s.URLs) == 0 || len(s.URLs) > maxICEURLs || len(s.Username) > maxTURNUsernameLen || len(s.Credential) > maxTURNCredentialLen {
				t.Fatalf("accepted %+v", s)
			}
			for _, u := range s.URLs {
				if len(u) > maxICEURLLen || !(strings.HasPrefix(u, "stun") || strings.HasPrefix(u, "turn")) {
					t.Fatalf("accepted URL %q", u)
				}
			}
		}
		_ = cloneICEServers(resp.ICEServers)
	})
}
