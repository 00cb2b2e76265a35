package protect_test

import (
	"fmt"

	"github.com/pumpnet/pumpnet/netcode/internal/protect"
)

// Example shows both directions of a connection built from the material a
// DTLS handshake exported (here fixed bytes stand in for it).
func Example() {
	material := make([]byte, protect.ExporterLength) // from ExportKeyingMaterial
	for i := range material {
		material[i] = byte(i * 13)
	}
	ex, err := protect.SplitExported(material)
	clear(material)
	if err != nil {
		panic(err)
	}
	// The client seals with the client-to-server secret; the server opens
	// with the same one.
	client, err := protect.NewSealer(protect.AES128GCM, ex.ClientToServer[:], 0)
	if err != nil {
		panic(err)
	}
	server, err := protect.NewOpener(protect.AES128GCM, ex.ClientToServer[:], 0)
	if err != nil {
		panic(err)
	}
	serverCID := ex.ServerCID
	ex.Zero()

	buf := make([]byte, 0, 1200)
	packet, pn, err := client.Seal(buf, serverCID, []byte{0x01}) // a PING frame
	if err != nil {
		panic(err)
	}
	fmt.Println("sealed packet", pn, "of", len(packet), "bytes")

	pn, payload, err := server.Open(packet)
	if err != nil {
		panic(err)
	}
	fmt.Printf("opened packet %d: %x\n", pn, payload)

	_, _, err = server.Open(packet)
	fmt.Println(err)
	fmt.Println(client)
	// Output:
	// sealed packet 0 of 30 bytes
	// opened packet 0: 01
	// protect: replayed or too old packet
	// protect.Sealer{AES-128-GCM phase=0 nextPN=1 keyUpdates=0 keys=REDACTED}
}
