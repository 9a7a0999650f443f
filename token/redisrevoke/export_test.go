package redisrevoke

// SetRebuildHook has l call f after each rebuild of its mirror has built
// the new mirror and before it replaces the old one.
func SetRebuildHook(l *List, f func()) {
	l.rebuilding.Lock()
	defer l.rebuilding.Unlock()
	l.testHookRebuilt = f
}
