// Package harness is the machinery shared by pumpnet's benchmark suites,
// ../.. (package benchmarks) and ../../peers (the peers module, whose
// import path lies under benchmarks/, so that it may import this internal
// package although it is a module of its own): the helper processes that
// hold the remote side of a benchmark (StartHelper, Main, HelperIO), the
// meters (Meter, Recorder, HeapAllocs), the ping-pong loop with its paired
// raw UDP baseline (PingLoop), and the throughput and scale drivers
// (TputSession, ScaleSession) with the raw UDP, netcode and engine
// transports built in; the peers module plugs ENet and kcp-go into them
// (TputListen, TputDial, ScaleListen, ScaleConnect).
//
// It is test machinery: functions that take a testing.TB fail it on
// error. Nothing here is goroutine-safe unless its comment says so.
package harness
