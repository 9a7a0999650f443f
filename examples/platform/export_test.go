package platform

// SetHashHook makes p call f in every argon2id evaluation, with the
// evaluation's share of the hashing budget held: tests count evaluations
// with it, and hold them in flight.
func SetHashHook(p *Platform, f func()) {
	p.accounts.hashing.mu.Lock()
	p.accounts.hashing.hook = f
	p.accounts.hashing.mu.Unlock()
}
