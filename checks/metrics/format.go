package metrics

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// formatValue formats v in unit for a title: "93%", "1.25s", "1.5 GiB", "3".
func formatValue(v float64, unit string) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'f', -1, 64) // +Inf, -Inf, NaN
	}
	switch unit {
	case UnitRatio:
		return formatPercent(v * 100)
	case UnitPercent:
		return formatPercent(v)
	case UnitSeconds:
		return formatSeconds(v)
	case UnitBytes:
		return formatBytes(v)
	default:
		return formatNumber(v)
	}
}

// trimFloat formats v with at most decimals decimals, without trailing
// zeros.
func trimFloat(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func formatPercent(p float64) string {
	switch a := math.Abs(p); {
	case a >= 10:
		return trimFloat(p, 0) + "%"
	case a >= 1:
		return trimFloat(p, 1) + "%"
	default:
		return trimFloat(p, 2) + "%"
	}
}

func formatSeconds(s float64) string {
	switch a := math.Abs(s); {
	case a == 0:
		return "0s"
	case a < 1e-3:
		return trimFloat(s*1e6, 0) + "µs"
	case a < 1:
		return trimFloat(s*1e3, 1) + "ms"
	case a < 60:
		return trimFloat(s, 2) + "s"
	default:
		return time.Duration(s * float64(time.Second)).Round(time.Second).String()
	}
}

func formatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for math.Abs(b) >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return trimFloat(b, 1) + " " + units[i]
}

func formatNumber(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v, 'g', 4, 64)
	case a >= 1:
		return trimFloat(v, 2)
	case a == 0:
		return "0"
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// formatThresholds returns "warn 80%, fail 95%" (above) or "warn ≤ 5,
// fail ≤ 1" (below); a missing threshold is left out.
func formatThresholds(q Query) string {
	below := ""
	if q.Direction == Below {
		below = "≤ "
	}
	var parts []string
	if q.Warn != nil {
		parts = append(parts, "warn "+below+formatValue(*q.Warn, q.Unit))
	}
	if q.Fail != nil {
		parts = append(parts, "fail "+below+formatValue(*q.Fail, q.Unit))
	}
	return strings.Join(parts, ", ")
}

// nameLabels are the labels that name an object, in order of preference.
// With a namespace label they make "namespace/name".
var nameLabels = []string{"pod", "persistentvolumeclaim", "deployment", "statefulset", "daemonset", "service", "job"}

// shownLabels returns the labels of m that identify it: labels when set
// (those m has), else all of m's labels but __name__, sorted.
func shownLabels(m model.Metric, labels []string) []string {
	if len(labels) > 0 {
		var out []string
		for _, l := range labels {
			if _, ok := m[model.LabelName(l)]; ok {
				out = append(out, l)
			}
		}
		return out
	}
	out := make([]string, 0, len(m))
	for l := range m {
		if l != model.MetricNameLabel {
			out = append(out, string(l))
		}
	}
	slices.Sort(out)
	return out
}

// objectName names a series for people: "shop/api-7d9f8c6b5-x2x9q
// container=api" (namespace/name, then the other labels as key=value).
func objectName(m model.Metric, labels []string) string {
	shown := shownLabels(m, labels)
	var parts []string
	skip := map[string]bool{}
	if ns, ok := m["namespace"]; ok && slices.Contains(shown, "namespace") {
		for _, l := range nameLabels {
			if v, ok := m[model.LabelName(l)]; ok && slices.Contains(shown, l) {
				parts = append(parts, string(ns)+"/"+string(v))
				skip["namespace"], skip[l] = true, true
				break
			}
		}
	}
	for _, l := range shown {
		if !skip[l] {
			parts = append(parts, l+"="+string(m[model.LabelName(l)]))
		}
	}
	return strings.Join(parts, " ")
}

// volatileLabels change with every restart, rollout or scrape target
// move; they are left out of fingerprints when a query does not list its
// labels.
var volatileLabels = map[string]bool{
	"uid": true, "id": true, "container_id": true, "image_id": true, "image": true,
	"pod_ip": true, "host_ip": true, "pod_template_hash": true, "controller_revision_hash": true,
}

// fingerprintParts returns "key=value" parts that identify a series across
// runs: the query's labels when set, else all labels but __name__ and the
// volatile ones (and instance when there is a pod label: for a pod's target
// it is the pod's IP, and the pod already says which it is). A pod name is
// reduced to its workload's (see workloadName).
func fingerprintParts(m model.Metric, labels []string) []string {
	var keys []string
	if len(labels) > 0 {
		keys = shownLabels(m, labels)
	} else {
		_, hasPod := m["pod"]
		for _, l := range shownLabels(m, nil) {
			if volatileLabels[l] || (hasPod && l == "instance") {
				continue
			}
			keys = append(keys, l)
		}
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := string(m[model.LabelName(k)])
		if k == "pod" {
			v = workloadName(v)
		}
		parts = append(parts, k+"="+v)
	}
	return parts
}

// The random parts of pod names come from apimachinery's rand.String and
// rand.SafeEncodeString, whose alphabet has no vowels (and no 0, 1, 3) so
// that they never spell words: "bcdfghjklmnpqrstvwxz2456789".
var (
	// A Deployment's pod: <deployment>-<pod-template-hash>-<5 random>.
	replicaSetPod = regexp.MustCompile(`^(.+)-[bcdfghjklmnpqrstvwxz2456789]{4,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	// A DaemonSet's, Job's or bare ReplicaSet's pod: <name>-<5 random>.
	randomSuffixPod = regexp.MustCompile(`^(.+)-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	// A CronJob's Job: <cronjob>-<scheduled time in minutes since 1970>.
	cronJobName = regexp.MustCompile(`^(.+)-[0-9]{8,10}$`)
)

// workloadName strips a pod name down to the name of what owns it, so that
// a fingerprint survives rollouts and rescheduling:
//
//	api-7d9f8c6b5-x2x9q        → api        (Deployment: ReplicaSet hash and random suffix)
//	node-exporter-x2x9q        → node-exporter (DaemonSet: random suffix)
//	backup-29146020-x2x9q      → backup     (CronJob: schedule time and random suffix)
//	postgres-0                 → postgres-0 (StatefulSet: the ordinal is a stable identity)
func workloadName(pod string) string {
	if m := replicaSetPod.FindStringSubmatch(pod); m != nil {
		return m[1]
	}
	if m := randomSuffixPod.FindStringSubmatch(pod); m != nil {
		pod = m[1]
		if m := cronJobName.FindStringSubmatch(pod); m != nil {
			return m[1]
		}
	}
	return pod
}
