package emulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 16 << 20

// request is the part of an OpenAI completions or chat completions request
// the emulator reads; other fields are accepted and ignored.
type request struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []message       `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	N                   *int            `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// CountTokens is the emulator's tokenizer: the number of
// whitespace-separated words in text (strings.Fields).
func CountTokens(text string) int { return len(strings.Fields(text)) }

// promptTokens returns the prompt's token count: the words of a string
// prompt (or of a one-element array of strings), the length of an array of
// token ids (or of a one-element array of such arrays).
func promptTokens(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return 0, errors.New("prompt: required")
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return CountTokens(str), nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		if len(strs) != 1 {
			return 0, fmt.Errorf("prompt: got %d prompts, the emulator takes one per request", len(strs))
		}
		return CountTokens(strs[0]), nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		return len(ids), nil
	}
	var idss [][]int64
	if json.Unmarshal(raw, &idss) == nil {
		if len(idss) != 1 {
			return 0, fmt.Errorf("prompt: got %d prompts, the emulator takes one per request", len(idss))
		}
		return len(idss[0]), nil
	}
	return 0, errors.New("prompt: must be a string, an array of one string, or an array of token ids")
}

// messageTokens returns the words in the contents of all messages: a
// string content, or the text of an array of content parts.
func messageTokens(msgs []message) (int, error) {
	if len(msgs) == 0 {
		return 0, errors.New("messages: required, at least one message")
	}
	n := 0
	for i, m := range msgs {
		raw := bytes.TrimSpace(m.Content)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		var str string
		if json.Unmarshal(raw, &str) == nil {
			n += CountTokens(str)
			continue
		}
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return 0, fmt.Errorf("messages[%d].content: must be a string or an array of content parts", i)
		}
		for _, p := range parts {
			n += CountTokens(p.Text)
		}
	}
	return n, nil
}

// fillerWords are the text of generated tokens: token i of a response is
// " " + fillerWords[i % len(fillerWords)].
var fillerWords = []string{"the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "runs", "far", "into", "green", "hills", "again"}

func tokenText(i int) string { return " " + fillerWords[i%len(fillerWords)] }

type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    int     `json:"code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes an OpenAI-style error body.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]apiError{"error": {Message: msg, Type: typ, Code: status}})
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// parse reads and checks a request; it returns the prompt and output token
// counts, or an HTTP status and message.
func (s *Server) parse(r *http.Request, chat bool) (req request, prompt, output, status int, errType, msg string) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("reading body: %v", err)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("invalid JSON body: %v", err)
	}
	if req.Model != "" && !s.servesModel(req.Model) {
		return req, 0, 0, http.StatusNotFound, "NotFoundError", fmt.Sprintf("the model %q does not exist; this server serves %q", req.Model, s.modelID)
	}
	if chat {
		prompt, err = messageTokens(req.Messages)
	} else {
		prompt, err = promptTokens(req.Prompt)
	}
	if err != nil {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError", err.Error()
	}
	if prompt < 1 {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError", "the prompt is empty: it must hold at least one token (one whitespace-separated word)"
	}
	output = DefaultMaxTokens
	switch {
	case req.MaxCompletionTokens != nil:
		output = *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		output = *req.MaxTokens
	}
	if output < 1 || output > MaxOutputTokens {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("max_tokens: must be in [1, %d], got %d", MaxOutputTokens, output)
	}
	if req.N != nil && *req.N != 1 {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("n: the emulator generates one choice, got %d", *req.N)
	}
	if s.maxCtx > 0 && prompt+output > s.maxCtx {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError",
			fmt.Sprintf("this model's maximum context length is %d tokens; the request has %d prompt tokens and %d output tokens", s.maxCtx, prompt, output)
	}
	if !s.eng.fits(prompt, output) {
		return req, 0, 0, http.StatusBadRequest, "BadRequestError",
			fmt.Sprintf("the replica's KV cache holds %d tokens; the request needs %d", s.eng.blocks*s.eng.bt, prompt+output)
	}
	return req, prompt, output, 0, "", ""
}

// servesModel says whether name is the served model (its id, an alias or a
// published name).
func (s *Server) servesModel(name string) bool {
	if strings.EqualFold(strings.TrimSpace(name), s.modelID) {
		return true
	}
	m, ok := lookupModel(name)
	return ok && m == s.modelID
}

// generate serves POST /v1/completions (chat false) and
// /v1/chat/completions (chat true).
func (s *Server) generate(w http.ResponseWriter, r *http.Request, chat bool) {
	req, prompt, output, status, typ, msg := s.parse(r, chat)
	if status != 0 {
		writeError(w, status, typ, msg)
		return
	}
	sq, err := s.eng.submit(prompt, output)
	switch {
	case errors.Is(err, ErrQueueFull):
		writeError(w, http.StatusTooManyRequests, "RateLimitError", fmt.Sprintf("%v: %d requests wait", err, s.eng.maxQueue))
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", err.Error())
		return
	}
	defer s.eng.cancel(sq)
	id := fmt.Sprintf("cmpl-%d", s.nextID.Add(1))
	if chat {
		id = "chat" + id
	}
	created := time.Now().Unix()
	u := usage{PromptTokens: prompt, CompletionTokens: output, TotalTokens: prompt + output}
	if req.Stream {
		s.stream(w, r, sq, chat, id, created, req.StreamOptions != nil && req.StreamOptions.IncludeUsage, u)
		return
	}
	for {
		select {
		case <-sq.notify:
		case <-r.Context().Done():
			return
		}
		_, finished, err := s.eng.state(sq)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", err.Error())
			return
		}
		if finished {
			break
		}
	}
	var text strings.Builder
	for i := range output {
		text.WriteString(tokenText(i))
	}
	choice := map[string]any{"index": 0, "finish_reason": "length", "logprobs": nil}
	object := "text_completion"
	if chat {
		object = "chat.completion"
		choice["message"] = map[string]any{"role": "assistant", "content": text.String()}
	} else {
		choice["text"] = text.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "object": object, "created": created, "model": s.modelID,
		"choices": []any{choice}, "usage": u,
	})
}

// stream writes the response as server-sent events, one chunk per token as
// the engine produces it.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, sq *seq, chat bool, id string, created int64, includeUsage bool, u usage) {
	fl, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	object := "text_completion"
	if chat {
		object = "chat.completion.chunk"
	}
	var buf bytes.Buffer
	event := func(v any) {
		buf.WriteString("data: ")
		b, _ := json.Marshal(v)
		buf.Write(b)
		buf.WriteString("\n\n")
	}
	chunk := func(choices []any) map[string]any {
		return map[string]any{"id": id, "object": object, "created": created, "model": s.modelID, "choices": choices}
	}
	sent := 0
	for {
		select {
		case <-sq.notify:
		case <-r.Context().Done():
			return
		}
		produced, finished, err := s.eng.state(sq)
		buf.Reset()
		for ; sent < produced; sent++ {
			var reason any
			if sent == u.CompletionTokens-1 {
				reason = "length"
			}
			choice := map[string]any{"index": 0, "finish_reason": reason, "logprobs": nil}
			if chat {
				delta := map[string]any{"content": tokenText(sent)}
				if sent == 0 {
					delta["role"] = "assistant"
				}
				choice["delta"] = delta
			} else {
				choice["text"] = tokenText(sent)
			}
			event(chunk([]any{choice}))
		}
		if err != nil {
			event(map[string]apiError{"error": {Message: err.Error(), Type: "ServiceUnavailableError", Code: http.StatusServiceUnavailable}})
		} else if finished {
			if includeUsage {
				c := chunk([]any{})
				c["usage"] = u
				event(c)
			}
			buf.WriteString("data: [DONE]\n\n")
		}
		if _, werr := w.Write(buf.Bytes()); werr != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
		if err != nil || finished {
			return
		}
	}
}
