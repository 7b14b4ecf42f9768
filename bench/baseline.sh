#!/usr/bin/env bash
# The by-hand baseline of the checklist benchmark: what a person on the ops
# rotation does at 9am without opsbot, as a script, one step after another.
#   1. kubectl get pods, and read the STATUS and RESTARTS columns;
#   2. kubectl logs for each pod over the window, piped to grep for errors;
#   3. curl Alertmanager for the firing alerts;
#   4. curl each Prometheus query a Grafana dashboard would show.
# It prints a short tally so its work cannot be optimised away.
#
# Usage: baseline.sh KUBECONFIG NAMESPACES WINDOW ALERTMANAGER_URL PROMETHEUS_URL QUERIES_FILE
# NAMESPACES is one namespace or several, comma-separated: steps 1 and 2 are
# done for each in turn.
set -euo pipefail
kubeconfig=$1 namespaces=$2 window=$3 am=$4 prom=$5 queries=$6
kubectl=${KUBECTL:-kubectl}

total_pods=0 unhealthy=0 error_lines=0
for ns in ${namespaces//,/ }; do
  # 1. kubectl get pods -n <prod namespace>
  pods=$("$kubectl" --kubeconfig "$kubeconfig" get pods -n "$ns" --no-headers)
  total_pods=$((total_pods + $(wc -l <<<"$pods")))
  unhealthy=$((unhealthy + $(awk '$3 != "Running" && $3 != "Completed" || $4+0 >= 5' <<<"$pods" | wc -l)))

  # 2. read the logs, pod by pod
  for pod in $(awk '{print $1}' <<<"$pods"); do
    n=$("$kubectl" --kubeconfig "$kubeconfig" logs -n "$ns" "$pod" --since="$window" 2>/dev/null |
      grep -c -i -E 'error|fatal|exception' || true)
    error_lines=$((error_lines + n))
  done
done

# 3. the alerts
alerts=$(curl -fsS "$am/api/v2/alerts?active=true&silenced=false&inhibited=false" | { grep -o '"alertname":"[^"]*"' || true; } | wc -l)

# 4. the dashboards' queries
series=0
while IFS= read -r q; do
  [ -n "$q" ] || continue
  n=$(curl -fsS --get --data-urlencode "query=$q" "$prom/api/v1/query" | { grep -o '"metric":' || true; } | wc -l)
  series=$((series + n))
done <"$queries"

echo "pods=$total_pods unhealthy=$unhealthy error_lines=$error_lines alerts=$alerts series=$series"
