package bot

import "testing"

func TestInvestigateValue(t *testing.T) {
	for _, c := range []struct {
		run int64
		idx int
	}{{1, 0}, {42, 7}, {1<<63 - 1, 1<<31 - 1}} {
		v := investigateValue(c.run, c.idx)
		if len(v) > 2000 {
			t.Errorf("value %q is longer than Slack's 2,000 characters", v)
		}
		run, idx, ok := parseInvestigateValue(v)
		if !ok || run != c.run || idx != c.idx {
			t.Errorf("parseInvestigateValue(%q) = %d, %d, %v", v, run, idx, ok)
		}
	}
	// Values of reports posted before runs were stored (a hexadecimal key
	// held in memory), and anything not canonical, are not run ids.
	for _, v := range []string{"", "42", "42/", "/3", "a1b2c3d4e5f6/0", "000000000042/0", "042/1", "42/01",
		"+42/1", "-42/1", "0/0", "42/-1", "42/1/2", "42 /1", "99999999999999999999/0"} {
		if run, idx, ok := parseInvestigateValue(v); ok {
			t.Errorf("parseInvestigateValue(%q) = %d, %d, ok", v, run, idx)
		}
	}
}
