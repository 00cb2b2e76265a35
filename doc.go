// Package pumpnet is the root of the pumpnet module, a multiplayer game
// networking engine for Go and Ebitengine games.
//
// The root package holds no code of its own; it exists so that the module's
// boundary tests (no ebiten, no cgo in the core) have a home. The packages
// game code imports are:
//
//   - [github.com/pumpnet/pumpnet/codec]: message encoding (msgpack by
//     default, JSON for tools), the "action" envelope and the input limits
//     that every byte from the network passes first.
//   - [github.com/pumpnet/pumpnet/netcode]: DTLS-keyed secure UDP with
//     reliable and unreliable channels.
//   - [github.com/pumpnet/pumpnet/engine]: the PodSixNet model: Server,
//     Client, Peer, Network_<action> handlers and Pump.
//   - [github.com/pumpnet/pumpnet/lobby]: LAN discovery and sessions of 2-8
//     peers with seat locking.
package pumpnet
