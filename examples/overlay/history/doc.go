// Package history is the data behind the network overlay
// (examples/overlay), without graphics, so it is tested without a
// display: a Table keeps per-peer statistics and a Ring of RTT samples from
// frame to frame; NiceScale and Plot turn samples into a graph's pixels;
// Format and Rate write the overlay's lines.
//
// # Example
//
//	t := history.NewTable(120, 6) // 12 s of samples at 60 updates/s
//	for range 60 {
//		t.Update([]history.Peer{{Name: "server", Stats: cl.Stats()}})
//	}
//	tr := t.Tracks()[0]
//	lo, hi, _ := tr.RTT.MinMax()
//	s := history.NiceScale(lo, hi, 1)
//	pts := history.Plot(nil, tr.RTT, s, 0, 0, 240, 40)
//	fmt.Println(history.Format(tr.Stats), len(pts))
package history
