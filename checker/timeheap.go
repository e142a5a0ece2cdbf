package checker

import "time"

// timeHeap is a min-heap (container/heap) of items ordered by a time, each
// of which keeps its own index so that it can be moved or taken out: the
// scheduler's checks by when they are next due, the loop's probes in
// flight by their deadline.
type timeHeap[T heapItem] []T

// heapItem is what a timeHeap holds.
type heapItem interface {
	heapTime() time.Time
	setHeapIndex(int) // -1: out of the heap
}

func (h timeHeap[T]) Len() int           { return len(h) }
func (h timeHeap[T]) Less(i, j int) bool { return h[i].heapTime().Before(h[j].heapTime()) }

func (h timeHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].setHeapIndex(i)
	h[j].setHeapIndex(j)
}

func (h *timeHeap[T]) Push(x any) {
	t := x.(T)
	t.setHeapIndex(len(*h))
	*h = append(*h, t)
}

func (h *timeHeap[T]) Pop() any {
	old := *h
	n := len(old) - 1
	t := old[n]
	var zero T
	old[n] = zero
	*h = old[:n]
	t.setHeapIndex(-1)
	return t
}

func (c *check) heapTime() time.Time { return c.heapAt }
func (c *check) setHeapIndex(i int)  { c.heapIdx = i }
