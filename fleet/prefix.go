package fleet

// prefixCache is a replica's prefix cache: context the replica computed for
// earlier calls, keyed by the prefix's identity (an agent session), kept in
// free KV blocks and evicted least recently used first. An entry remembers
// how many tokens of that prefix are cached.
type prefixCache struct {
	idx    map[uint64]int32
	ents   []cacheEnt
	free   []int32
	head   int32 // most recently used; -1 when empty
	tail   int32 // least recently used
	tokens int64
	hits   int64 // lookups that found the key
	looks  int64
}

type cacheEnt struct {
	key        uint64
	tokens     int32
	prev, next int32
}

func (pc *prefixCache) unlink(i int32) {
	e := &pc.ents[i]
	if e.prev >= 0 {
		pc.ents[e.prev].next = e.next
	} else {
		pc.head = e.next
	}
	if e.next >= 0 {
		pc.ents[e.next].prev = e.prev
	} else {
		pc.tail = e.prev
	}
}

func (pc *prefixCache) pushFront(i int32) {
	e := &pc.ents[i]
	e.prev, e.next = -1, pc.head
	if pc.head >= 0 {
		pc.ents[pc.head].prev = i
	} else {
		pc.tail = i
	}
	pc.head = i
}

// lookup returns the cached tokens of key (0 when absent) and marks it used.
func (pc *prefixCache) lookup(key uint64) int32 {
	pc.looks++
	i, ok := pc.idx[key]
	if !ok {
		return 0
	}
	pc.hits++
	pc.unlink(i)
	pc.pushFront(i)
	return pc.ents[i].tokens
}

// insert records that tokens tokens of key's prefix are cached.
func (pc *prefixCache) insert(key uint64, tokens int32) {
	if pc.idx == nil {
		pc.idx = make(map[uint64]int32)
		pc.head, pc.tail = -1, -1
	}
	if i, ok := pc.idx[key]; ok {
		pc.tokens += int64(tokens - pc.ents[i].tokens)
		pc.ents[i].tokens = tokens
		pc.unlink(i)
		pc.pushFront(i)
		return
	}
	var i int32
	if n := len(pc.free); n > 0 {
		i = pc.free[n-1]
		pc.free = pc.free[:n-1]
	} else {
		pc.ents = append(pc.ents, cacheEnt{})
		i = int32(len(pc.ents) - 1)
	}
	pc.ents[i] = cacheEnt{key: key, tokens: tokens}
	pc.idx[key] = i
	pc.pushFront(i)
	pc.tokens += int64(tokens)
}

// trim evicts least recently used entries until the cache holds at most
// capTokens tokens.
func (pc *prefixCache) trim(capTokens int64) {
	for pc.tokens > max(capTokens, 0) && len(pc.idx) > 0 {
		i := pc.tail
		pc.unlink(i)
		pc.tokens -= int64(pc.ents[i].tokens)
		delete(pc.idx, pc.ents[i].key)
		pc.free = append(pc.free, i)
	}
}

// has says whether key is cached, without marking it used.
func (pc *prefixCache) has(key uint64) bool {
	_, ok := pc.idx[key]
	return ok
}
