package security

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/opsbot/opsbot/checks"
)

// VulnerabilityReports is the resource Trivy Operator writes, one object
// per container image of a workload, in the workload's namespace.
var VulnerabilityReports = schema.GroupVersionResource{
	Group: "aquasecurity.github.io", Version: "v1alpha1", Resource: "vulnerabilityreports",
}

// The labels Trivy Operator puts on a report: the workload and the
// container whose image it scanned.
const (
	labelKind      = "trivy-operator.resource.kind"
	labelName      = "trivy-operator.resource.name"
	labelContainer = "trivy-operator.container.name"
)

// report is the part of a VulnerabilityReport the check reads.
type report struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Report   struct {
		Artifact struct {
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
			Digest     string `json:"digest"`
		} `json:"artifact"`
		Registry struct {
			Server string `json:"server"`
		} `json:"registry"`
		Summary struct {
			CriticalCount int `json:"criticalCount"`
			HighCount     int `json:"highCount"`
		} `json:"summary"`
		Vulnerabilities []vulnerability `json:"vulnerabilities"`
	} `json:"report"`
}

// vulnerability is one entry of a report's list.
type vulnerability struct {
	ID               string  `json:"vulnerabilityID"`
	Severity         string  `json:"severity"`
	Resource         string  `json:"resource"`
	InstalledVersion string  `json:"installedVersion"`
	FixedVersion     string  `json:"fixedVersion"`
	Score            float64 `json:"score"`
	Title            string  `json:"title"`
	PrimaryLink      string  `json:"primaryLink"`
}

// image is one finding in the making: a container of a workload and the
// image repository it runs, with the vulnerabilities of its reports (more
// than one report when a rollout left two ReplicaSets, or two tags).
type image struct {
	namespace, kind, name, container string
	repository                       string // registry/repository
	refs                             []string
	vulns                            map[string]vulnerability // by ID and package
	critical, high                   int                      // the reports' summaries, the largest
}

// vulnResult is what the vulnerabilities look saw.
type vulnResult struct {
	// listed is how many namespaces' reports were listed (in part, at
	// least); reports how many reports were read.
	listed   int
	reports  int
	findings []checks.Finding
	// blind says what could not be read, one phrase per namespace.
	blind []string
}

// vulnerabilities lists the reports of each namespace and makes one
// finding per workload container and image repository with vulnerabilities
// of at least the minimum severity.
func (c *Check) vulnerabilities(ctx context.Context) vulnResult {
	var out vulnResult
	images := map[string]*image{}
	for i, ns := range c.namespaces {
		if ctx.Err() != nil {
			out.blind = append(out.blind, fmt.Sprintf("did not list VulnerabilityReports in %s: %v",
				strings.Join(c.namespaces[i:], ", "), context.Cause(ctx)))
			break
		}
		n, err := c.listReports(ctx, ns, func(r *report) { c.addReport(images, ns, r) })
		out.reports += n
		if err == nil || n > 0 {
			out.listed++
		}
		switch {
		case err != nil && ctx.Err() != nil:
			out.blind = append(out.blind, fmt.Sprintf("could not list VulnerabilityReports in %s: %v", ns, context.Cause(ctx)))
		case err != nil:
			out.blind = append(out.blind, describeListError(ns, err))
		}
	}
	prev := c.previous(ctx)
	for _, im := range images {
		if f, ok := c.imageFinding(im, prev); ok {
			out.findings = append(out.findings, f)
		}
	}
	slices.SortFunc(out.findings, func(a, b checks.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	return out
}

// previousRun is what the last checklist saw: the vulnerability ids of
// each image's finding, by the fingerprint without its CVE-set part. nil
// when not known (no previous run, no store, or it could not be read).
type previousRun map[string]map[string]bool

// previous reads the last checklist's vulnerability findings, if the check
// was given a way to.
func (c *Check) previous(ctx context.Context) previousRun {
	if c.last == nil {
		return nil
	}
	findings, ok, err := c.last(ctx, name+"/vulnerabilities/")
	if err != nil {
		c.logger.Warn("could not read the last checklist's findings: no vulnerability is marked new", zap.Error(err))
		return nil
	}
	if !ok {
		return nil
	}
	prev := previousRun{}
	for _, f := range findings {
		i := strings.LastIndexByte(f.Fingerprint, '/')
		if i < 0 {
			continue
		}
		var ids map[string]bool
		if f.Items != nil {
			ids = map[string]bool{}
			for _, id := range f.Items {
				ids[id] = true
			}
		}
		prev[f.Fingerprint[:i]] = ids
	}
	return prev
}

// listReports lists the reports of ns page by page, handing each to add,
// and returns how many it read. A failing page keeps the pages before it.
func (c *Check) listReports(ctx context.Context, ns string, add func(*report)) (int, error) {
	n := 0
	opts := metav1.ListOptions{Limit: int64(c.cfg.Vulnerabilities.PageSize)}
	for {
		list, err := c.dynamic.Resource(VulnerabilityReports).Namespace(ns).List(ctx, opts)
		if err != nil {
			return n, err
		}
		for i := range list.Items {
			var r report
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &r); err != nil {
				c.logger.Warn("unreadable VulnerabilityReport",
					zap.String("object", ns+"/"+list.Items[i].GetName()), zap.Error(err))
				continue
			}
			n++
			add(&r)
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return n, nil
		}
	}
}

// describeListError says why the reports of ns could not be listed, in
// words that say what to do.
func describeListError(ns string, err error) string {
	switch {
	case apierrors.IsNotFound(err):
		return "VulnerabilityReports are not served by this cluster: is Trivy Operator installed?"
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("may not list vulnerabilityreports.aquasecurity.github.io in %s: the Role needs that (deploy/watched/role)", ns)
	}
	return fmt.Sprintf("could not list VulnerabilityReports in %s: %v", ns, err)
}

// addReport adds r to the image of its workload container.
func (c *Check) addReport(images map[string]*image, ns string, r *report) {
	l := r.Metadata.Labels
	kind, name := workload(l[labelKind], l[labelName])
	if kind == "" {
		kind, name = "VulnerabilityReport", r.Metadata.Name
	}
	a := r.Report.Artifact
	repo := a.Repository
	if s := r.Report.Registry.Server; s != "" {
		repo = s + "/" + repo
	}
	key := strings.Join([]string{ns, kind, name, l[labelContainer], repo}, "\x00")
	im := images[key]
	if im == nil {
		im = &image{namespace: ns, kind: kind, name: name, container: l[labelContainer], repository: repo,
			vulns: map[string]vulnerability{}}
		images[key] = im
	}
	ref := repo
	if a.Tag != "" {
		ref += ":" + a.Tag
	}
	if a.Digest != "" {
		ref += "@" + a.Digest
	}
	if !slices.Contains(im.refs, ref) {
		im.refs = append(im.refs, ref)
		slices.Sort(im.refs)
	}
	im.critical = max(im.critical, r.Report.Summary.CriticalCount)
	im.high = max(im.high, r.Report.Summary.HighCount)
	for _, v := range r.Report.Vulnerabilities {
		v.Severity = strings.ToUpper(v.Severity)
		im.vulns[v.ID+"\x00"+v.Resource+"\x00"+v.InstalledVersion] = v
	}
}

// workload is the workload a report is about: a ReplicaSet named
// "<deployment>-<pod-template-hash>" is its Deployment's (Trivy Operator
// scans the active ReplicaSet; the Deployment is what people know and
// what survives a rollout).
func workload(kind, name string) (string, string) {
	if kind == "ReplicaSet" {
		if i := strings.LastIndexByte(name, '-'); i > 0 && isPodTemplateHash(name[i+1:]) {
			return "Deployment", name[:i]
		}
	}
	return kind, name
}

// isPodTemplateHash reports whether s looks like a pod-template-hash:
// 1 to 10 characters of the alphabet Kubernetes encodes it in (no vowels,
// no 0, 1 or 3), so that ordinary words do not match.
func isPodTemplateHash(s string) bool {
	if len(s) == 0 || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("bcdfghjklmnpqrstvwxz2456789", r) {
			return false
		}
	}
	return true
}

// severityRank orders Trivy's severities, most severe first.
var severityRank = map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "UNKNOWN": 4}

// imageFinding is im's finding, if it has vulnerabilities of at least the
// minimum severity: Fail with a critical one, Warn with high ones only.
// With prev, the vulnerabilities its finding did not have in the last
// checklist are marked new.
func (c *Check) imageFinding(im *image, prev previousRun) (checks.Finding, bool) {
	minRank := severityRank["HIGH"]
	if c.cfg.Vulnerabilities.MinSeverity == "critical" {
		minRank = severityRank["CRITICAL"]
	}
	var listed []vulnerability
	critical, high := map[string]bool{}, map[string]bool{}
	for _, v := range im.vulns {
		rank, known := severityRank[v.Severity]
		if !known || rank > minRank {
			continue
		}
		listed = append(listed, v)
		if v.Severity == "CRITICAL" {
			critical[v.ID] = true
		} else {
			high[v.ID] = true
		}
	}
	// A report may list fewer vulnerabilities than its summary counts;
	// the counts are the larger of the two.
	nCritical := max(len(critical), im.critical)
	nHigh := max(len(high), im.high)
	if minRank == severityRank["CRITICAL"] {
		nHigh = 0
	}
	if nCritical == 0 && nHigh == 0 {
		return checks.Finding{}, false
	}
	slices.SortFunc(listed, func(a, b vulnerability) int {
		return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]), cmp.Compare(b.Score, a.Score),
			cmp.Compare(a.ID, b.ID), cmp.Compare(a.Resource, b.Resource))
	})

	f := checks.Finding{Severity: checks.Warn, Count: nCritical + nHigh}
	if nCritical > 0 {
		f.Severity = checks.Fail
	}
	f.Object = fmt.Sprintf("%s %s/%s", im.kind, im.namespace, im.name)
	var counts []string
	if nCritical > 0 {
		counts = append(counts, fmt.Sprintf("%d critical", nCritical))
	}
	if nHigh > 0 {
		counts = append(counts, fmt.Sprintf("%d high", nHigh))
	}
	container := ""
	if im.container != "" {
		container = " (container " + im.container + ")"
	}
	f.Title = fmt.Sprintf("%s: %s vulnerabilities in %s%s", f.Object, strings.Join(counts, " and "), im.repository, container)

	// The fingerprint names the set of vulnerabilities, so that one more
	// CVE (or one fixed) is a new anomaly for the triage, not a sighting
	// of a decided one. Neither the tag nor the counts are in it: the
	// same vulnerabilities after a rebuild are the same anomaly.
	ids := make([]string, 0, len(critical)+len(high))
	for id := range critical {
		ids = append(ids, id)
	}
	for id := range high {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	set := strings.Join(ids, ",")
	if len(ids) == 0 {
		set = fmt.Sprintf("counts:%d,%d", nCritical, nHigh)
	}
	sum := sha256.Sum256([]byte(set))
	base := checks.Fingerprint(name, "vulnerabilities", im.namespace, im.kind, im.name, im.container, im.repository)
	f.Fingerprint = base + "/cves-" + hex.EncodeToString(sum[:6])
	f.Items = ids

	// New since the last checklist: not in the image's finding then (all
	// of them when it had none). Not known without a previous run, or
	// when its finding did not record its ids.
	isNew := map[string]bool{}
	if prevIDs, had := prev[base]; prev != nil && (!had || prevIDs != nil) {
		for _, id := range ids {
			if !prevIDs[id] {
				isNew[id] = true
			}
		}
	}

	var d strings.Builder
	fmt.Fprintf(&d, "image %s", strings.Join(im.refs, ", "))
	fixable := 0
	for _, v := range listed {
		if v.FixedVersion != "" {
			fixable++
		}
	}
	fmt.Fprintf(&d, "\n%d of %d listed have a fixed version", fixable, len(listed))
	if len(isNew) > 0 {
		fmt.Fprintf(&d, "; %d new since the last checklist", len(isNew))
	}
	for i, v := range listed {
		if i == c.cfg.Vulnerabilities.MaxListed {
			fmt.Fprintf(&d, "\n… and %d more", len(listed)-i)
			break
		}
		fix := "no fix yet"
		if v.FixedVersion != "" {
			fix = "fixed in " + v.FixedVersion
		}
		mark := ""
		if isNew[v.ID] {
			mark = " (new)"
		}
		fmt.Fprintf(&d, "\n%s %s %s %s: %s%s", v.ID, v.Severity, v.Resource, v.InstalledVersion, fix, mark)
	}
	f.Detail = d.String()
	if len(listed) > 0 {
		f.Link = listed[0].PrimaryLink
	}

	return f, true
}
