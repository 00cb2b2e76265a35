package delivery

import "testing"

func TestClassOf(t *testing.T) {
	prev := 0
	prevClass := -1
	for n := 0; n <= 1<<21; n++ {
		c, size := classOf(n)
		if size < n {
			t.Fatalf("classOf(%d) size %d too small", n, size)
		}
		if n > minClassSize && size-n > size/4 {
			t.Fatalf("classOf(%d) size %d wastes more than a quarter", n, size)
		}
		if size != prev {
			if c != prevClass+1 {
				t.Fatalf("classOf(%d) = class %d after class %d: classes not dense", n, c, prevClass)
			}
			prev, prevClass = size, c
		} else if c != prevClass {
			t.Fatalf("classOf(%d) class %d, same size %d had class %d", n, c, size, prevClass)
		}
		if c2, s2 := classOf(size); c2 != c || s2 != size {
			t.Fatalf("classOf(cap %d) = %d,%d, want %d,%d", size, c2, s2, c, size)
		}
	}
}

func TestPoolReusesAndBounds(t *testing.T) {
	p := pool{limit: 1000}
	a := p.get(100)
	if len(a) != 100 || cap(a) != 112 {
		t.Fatalf("get(100): len %d cap %d", len(a), cap(a))
	}
	a[0] = 7
	p.put(a)
	if p.retained != 112 {
		t.Fatalf("retained %d after put, want 112", p.retained)
	}
	b := p.get(97)
	if &b[:1][0] != &a[:1][0] {
		t.Fatal("get after put of the same class did not reuse the buffer")
	}
	if p.retained != 0 {
		t.Fatalf("retained %d after reuse", p.retained)
	}
	// Beyond the limit, released buffers are dropped.
	for range 20 {
		p.put(make([]byte, 0, 112))
	}
	if p.retained > p.limit {
		t.Fatalf("retained %d beyond limit %d", p.retained, p.limit)
	}
	// A buffer whose capacity is not a class size is not kept.
	before := p.retained
	p.put(make([]byte, 0, 100))
	if p.retained != before {
		t.Fatal("pool kept a buffer whose capacity is not a class size")
	}
}
