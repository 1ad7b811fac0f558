package loadgen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// script is a fake OpenAI-compatible streaming server with a known pace:
// the first content chunk ttft after the request arrives, then one every
// gap, each at an absolute time from the arrival so that sleep overshoot
// does not accumulate.
type script struct {
	ttft, gap   time.Duration
	chunks      int // content chunks
	perChunk    int // tokens per chunk for usage (0 means 1)
	usage       bool
	status      int // non-zero: answer with this status and no stream
	closeAfter  int // > 0: end the stream after this many chunks, without [DONE]
	stallAfter  int // > 0: stop sending after this many chunks, until the client leaves
	malformedAt int // > 0: send a broken chunk in place of this chunk (1-based)
	errorAt     int // > 0: send an error object in place of this chunk (1-based)
	chat        bool

	mu     sync.Mutex
	bodies []map[string]any
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	if s.status != 0 {
		http.Error(w, `{"error":"scripted failure"}`, s.status)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	send := func(data string) {
		fmt.Fprintf(w, "data: %s\n\n", data)
		fl.Flush()
	}
	if s.chat { // vLLM's first chat chunk carries the role and no content
		send(`{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`)
	}
	for k := range s.chunks {
		if d := time.Until(arrived.Add(s.ttft + time.Duration(k)*s.gap)); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case s.stallAfter > 0 && k == s.stallAfter:
			<-r.Context().Done()
			return
		case s.closeAfter > 0 && k == s.closeAfter:
			return
		case k+1 == s.malformedAt:
			send(`{"choices":[{"text":"unterminated`)
			continue
		case k+1 == s.errorAt:
			send(`{"error":{"message":"engine died","code":500}}`)
			continue
		}
		if s.chat {
			send(`{"choices":[{"index":0,"delta":{"content":" tok"}}]}`)
		} else {
			send(`{"choices":[{"index":0,"text":" tok"}]}`)
		}
	}
	if s.usage {
		per := max(s.perChunk, 1)
		send(fmt.Sprintf(`{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":%d}}`, per*s.chunks))
	}
	send("[DONE]")
}

// words counts whitespace-separated words.
func wordCount(s string) int { return len(strings.Fields(s)) }
