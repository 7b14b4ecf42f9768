package triage

// LockHolders is how many calls hold or wait for anomaly id's lock, for
// the tests of the Service's serialization.
func LockHolders(s *Service, id int64) int { return s.locks.Holders(id) }
