package triage

// LockHolders is how many calls hold or wait for anomaly id's lock, for
// the tests of the Service's serialization.
func LockHolders(s *Service, id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.locks[id]; l != nil {
		return l.n
	}
	return 0
}
