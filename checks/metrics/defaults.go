package metrics

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DefaultQueryNames returns the names of the built-in queries, in the
// order they run: cpu, memory, pvc, restarts, http5xx, latencyP99,
// networkReceive, networkTransmit. The two network queries run only when
// Config.NetworkLimit is set.
func DefaultQueryNames() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.Name
	}
	return names
}

// isBuiltin reports whether name is a built-in query's.
func isBuiltin(name string) bool {
	return slices.ContainsFunc(builtins, func(b Query) bool { return b.Name == name })
}

func ptr(f float64) *float64 { return &f }

// builtins are the built-in queries with their default thresholds. The
// http5xx and latencyP99 queries here use the "prometheus" metric names;
// httpQueries has the other conventions. Containers without limits, and
// metrics that are not scraped, give no series: "no data", not an error.
var builtins = []Query{
	{
		Name:        "cpu",
		Description: "CPU vs limit",
		Query: `sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{namespace=~"{{namespace}}", container!="", container!="POD"}[5m]))
  / on (namespace, pod, container)
max by (namespace, pod, container) (kube_pod_container_resource_limits{namespace=~"{{namespace}}", resource="cpu"})`,
		Warn: ptr(0.8), Fail: ptr(0.95), Direction: Above, Unit: UnitRatio,
		Labels: []string{"namespace", "pod", "container"},
	},
	{
		Name:        "memory",
		Description: "memory vs limit",
		Query: `max by (namespace, pod, container) (container_memory_working_set_bytes{namespace=~"{{namespace}}", container!="", container!="POD"})
  / on (namespace, pod, container)
max by (namespace, pod, container) (kube_pod_container_resource_limits{namespace=~"{{namespace}}", resource="memory"})`,
		Warn: ptr(0.8), Fail: ptr(0.95), Direction: Above, Unit: UnitRatio,
		Labels: []string{"namespace", "pod", "container"},
	},
	{
		Name:        "pvc",
		Description: "PVC usage",
		Query: `max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{namespace=~"{{namespace}}"})
  / on (namespace, persistentvolumeclaim)
max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes{namespace=~"{{namespace}}"})`,
		Warn: ptr(0.8), Fail: ptr(0.9), Direction: Above, Unit: UnitRatio,
		Labels: []string{"namespace", "persistentvolumeclaim"},
	},
	{
		Name:        "restarts",
		Description: "restarts in 1h",
		Query:       `max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{namespace=~"{{namespace}}"}[1h]))`,
		Warn:        ptr(1), Fail: ptr(5), Direction: Above, Unit: UnitNone,
		Labels: []string{"namespace", "pod", "container"},
	},
	{
		Name:        "http5xx",
		Description: "HTTP 5xx ratio",
		Query:       httpQueries["prometheus"].errors,
		Warn:        ptr(0.01), Fail: ptr(0.05), Direction: Above, Unit: UnitRatio,
		Labels: []string{"namespace", "job"},
	},
	{
		Name:        "latencyP99",
		Description: "p99 latency",
		Query:       httpQueries["prometheus"].latency,
		Warn:        ptr(1), Fail: ptr(2.5), Direction: Above, Unit: UnitSeconds,
		Labels: []string{"namespace", "job"},
	},
	{
		Name:        "networkReceive",
		Description: "network receive vs limit",
		Query:       networkQuery("container_network_receive_bytes_total"),
		Warn:        ptr(0.8), Fail: ptr(0.95), Direction: Above, Unit: UnitRatio,
		Labels: []string{"namespace", "pod"},
	},
	{
		Name:        "networkTransmit",
		Description: "network transmit vs limit",
		Query:       networkQuery("container_network_transmit_bytes_total"),
		Warn:        ptr(0.8), Fail: ptr(0.95), Direction: Above, Unit: UnitRatio,
		Labels: []string{"namespace", "pod"},
	},
}

// networkQuery is a pod's rate of metric (a cAdvisor network counter)
// against {{networkLimit}}, in bytes per second. cAdvisor reports a pod's
// network once per interface, and depending on the kubelet's version also
// on the pause container and the pod's cgroup with the same figures: the
// max by interface counts each interface once before the interfaces are
// summed. The loopback never leaves the pod.
func networkQuery(metric string) string {
	return `sum by (namespace, pod) (max by (namespace, pod, interface) (rate(` + metric + `{namespace=~"{{namespace}}", pod!="", interface!="lo"}[5m])))
  / {{networkLimit}}`
}

// isNetwork reports whether name is one of the network built-ins, which
// run only when a limit is configured.
func isNetwork(name string) bool { return name == "networkReceive" || name == "networkTransmit" }

// httpQueries are the http5xx and latencyP99 queries for each httpMetrics
// convention. The 5xx ratio adds "or ... * 0" so that a service without a
// single 5xx reports 0% rather than no data.
var httpQueries = map[string]struct{ errors, latency string }{
	"prometheus": {
		errors: `(sum by (namespace, job) (rate(http_requests_total{namespace=~"{{namespace}}", code=~"5.."}[5m]))
  or sum by (namespace, job) (rate(http_requests_total{namespace=~"{{namespace}}"}[5m])) * 0)
/ sum by (namespace, job) (rate(http_requests_total{namespace=~"{{namespace}}"}[5m]))`,
		latency: `histogram_quantile(0.99, sum by (le, namespace, job) (rate(http_request_duration_seconds_bucket{namespace=~"{{namespace}}"}[5m])))`,
	},
	"micrometer": {
		errors: `(sum by (namespace, job) (rate(http_server_requests_seconds_count{namespace=~"{{namespace}}", status=~"5.."}[5m]))
  or sum by (namespace, job) (rate(http_server_requests_seconds_count{namespace=~"{{namespace}}"}[5m])) * 0)
/ sum by (namespace, job) (rate(http_server_requests_seconds_count{namespace=~"{{namespace}}"}[5m]))`,
		latency: `histogram_quantile(0.99, sum by (le, namespace, job) (rate(http_server_requests_seconds_bucket{namespace=~"{{namespace}}"}[5m])))`,
	},
}

// queries returns the queries the check runs: the enabled built-ins with
// their threshold overrides, a query of the user's with a built-in's name
// in that built-in's place, then the user's other queries in their order.
func (cfg Config) queries() []Query {
	defaults := cfg.Defaults == nil || *cfg.Defaults
	own := map[string]Query{}
	for _, q := range cfg.Queries {
		own[q.Name] = q
	}
	var out []Query
	if defaults {
		for _, d := range builtins {
			if q, ok := own[d.Name]; ok {
				out = append(out, q)
				continue
			}
			if slices.Contains(cfg.DisableDefaults, d.Name) {
				continue
			}
			if isNetwork(d.Name) {
				if cfg.NetworkLimit == 0 {
					continue
				}
				d.Description += " (" + cfg.NetworkLimit.String() + ")"
				d.Query = strings.ReplaceAll(d.Query, "{{networkLimit}}", strconv.FormatFloat(float64(cfg.NetworkLimit), 'g', -1, 64))
			}
			warn, fail := cfg.Thresholds.pair(d.Name)
			if warn != nil {
				d.Warn = warn
			}
			if fail != nil {
				d.Fail = fail
			}
			if hq, ok := httpQueries[cfg.HTTPMetrics]; ok {
				switch d.Name {
				case "http5xx":
					d.Query = hq.errors
				case "latencyP99":
					d.Query = hq.latency
				}
			}
			out = append(out, d)
		}
	}
	for _, q := range cfg.Queries {
		if defaults && isBuiltin(q.Name) {
			continue // already in its built-in's place
		}
		out = append(out, q)
	}
	return out
}

// namespaceRegex returns the namespaces as one regex alternation for
// namespace=~"...", each name's regex metacharacters escaped, then escaped
// for a double-quoted PromQL string. No namespaces gives ".+" (every
// namespace).
func namespaceRegex(namespaces []string) string {
	var alts []string
	for _, n := range namespaces {
		if n = strings.TrimSpace(n); n != "" {
			alts = append(alts, regexp.QuoteMeta(n))
		}
	}
	if len(alts) == 0 {
		return ".+"
	}
	re := strings.Join(alts, "|")
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(re)
}

// expand replaces the {{namespace}} and $namespace placeholders of query.
func expand(query, nsRegex string) string {
	return strings.NewReplacer("{{namespace}}", nsRegex, "$namespace", nsRegex).Replace(query)
}
