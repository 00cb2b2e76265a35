package benchmarks

import "sync"

// baselines holds the raw (UDP or pion) figures that pumpnet's are divided
// by. A raw sub-benchmark stores what it measured (its last run, the one
// go test reports); when it was filtered out by -bench, the first pumpnet
// sub-benchmark that needs it measures it once with a fixed size.
var baselines = struct {
	sync.Mutex
	m map[string]any
}{m: map[string]any{}}

func setBaseline(key string, v any) {
	baselines.Lock()
	defer baselines.Unlock()
	baselines.m[key] = v
}

// baseline returns the stored baseline for key, measuring it with measure
// when there is none yet.
func baseline[T any](key string, measure func() T) T {
	baselines.Lock()
	v, ok := baselines.m[key]
	baselines.Unlock()
	if ok {
		return v.(T)
	}
	r := measure()
	setBaseline(key, r)
	return r
}
