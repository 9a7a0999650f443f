package mochi

// InternedSize is what Hook.interned counts it holds, in bytes.
func (h *Hook) InternedSize() int64 { return h.internedSize.Load() }

const MaxInternedSize = maxInternedSize
