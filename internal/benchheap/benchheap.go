// Package benchheap measures peak heap use while a benchmark runs, for the memory goals that
// benchmarks report with b.ReportMetric.
package benchheap

import (
	"runtime"
	"time"
)

// Peak samples HeapInuse every interval until stop is closed, then sends the peak in MB on the
// returned channel (buffered; read it once). The heap is also sampled when stop is closed. Garbage not yet collected counts, so the figure is
// an upper bound of live memory.
func Peak(stop <-chan struct{}, every time.Duration) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				// One last sample: what is live when the caller stops counts however the
				// scheduler ran the ticks.
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				out <- float64(peak) / (1 << 20)
				return
			case <-t.C:
			}
		}
	}()
	return out
}
