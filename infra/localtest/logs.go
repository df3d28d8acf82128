package localtest

import (
	"bytes"
	"log/slog"
	"sync"

	"github.com/sofie/integrations/shared/logging"
)

// logs collects every line the process logs through slog's default logger,
// which is what the functions use (as in Lambda, where main installs it).
var logs = &logBuffer{}

var installOnce sync.Once

// installLogger makes slog's default logger a JSON logger writing to logs.
// It is process-wide, as slog.SetDefault is.
func installLogger() {
	installOnce.Do(func() {
		slog.SetDefault(logging.JSON(logs, slog.LevelDebug))
	})
}

// logBuffer keeps whole lines; safe for concurrent use.
type logBuffer struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, string(b.partial[:i]))
		b.partial = b.partial[i+1:]
	}
	return len(p), nil
}

func (b *logBuffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.lines)
}

func (b *logBuffer) linesFrom(i int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i > len(b.lines) {
		return nil
	}
	return append([]string(nil), b.lines[i:]...)
}
