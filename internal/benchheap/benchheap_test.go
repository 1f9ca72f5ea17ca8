package benchheap

import (
	"testing"
	"time"
)

var sink [][]byte

func TestPeakSeesAnAllocation(t *testing.T) {
	stop := make(chan struct{})
	peak := Peak(stop, time.Millisecond)
	sink = append(sink, make([]byte, 64<<20))
	close(stop) // the sample taken at stop sees the allocation, however the ticks were scheduled
	if got := <-peak; got < 64 {
		t.Errorf("peak = %.1f MB while 64 MB were live, want at least 64", got)
	}
	sink = nil
}
