package grafana

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Dashboard is the part of a Grafana dashboard's JSON model the check
// reads: as the HTTP API returns it under "dashboard", and as "Export"
// writes it (with __inputs for its datasources).
type Dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []Panel `json:"panels"`
	// Rows are the panels of dashboards older than schema 16.
	Rows       []struct{ Panels []Panel } `json:"rows"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	// Inputs are an exported dashboard's datasources (${DS_PROMETHEUS}).
	Inputs []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
}

// Panel is one panel, or a row with the panels it holds when collapsed.
type Panel struct {
	ID            int             `json:"id"`
	Type          string          `json:"type"`
	Title         string          `json:"title"`
	Datasource    json.RawMessage `json:"datasource"`
	Targets       []Target        `json:"targets"`
	Interval      string          `json:"interval"`
	MaxDataPoints *float64        `json:"maxDataPoints"`
	FieldConfig   FieldConfig     `json:"fieldConfig"`
	Options       struct {
		ReduceOptions *struct {
			Calcs  []string `json:"calcs"`
			Values bool     `json:"values"`
		} `json:"reduceOptions"`
	} `json:"options"`
	// Panels are a collapsed row's panels.
	Panels []Panel `json:"panels"`
	// LibraryPanel is set on a library panel, whose model (queries,
	// thresholds) lives in Grafana's library, not in the dashboard.
	LibraryPanel *struct {
		UID  string `json:"uid"`
		Name string `json:"name"`
	} `json:"libraryPanel"`
	// Transformations change the data before it is shown.
	Transformations []struct {
		ID string `json:"id"`
	} `json:"transformations"`

	// The singlestat and graph panels of Grafana before 7, which Grafana
	// migrates when it loads them: thresholds are "70,80" (singlestat) or
	// a list of {op, value, colorMode} (graph); colors are singlestat's.
	Thresholds json.RawMessage `json:"thresholds"`
	Colors     json.RawMessage `json:"colors"`
	ValueName  json.RawMessage `json:"valueName"`
	Format     string          `json:"format"`
	YAxes      []struct {
		Format string `json:"format"`
	} `json:"yaxes"`
}

// Target is one query of a panel.
type Target struct {
	RefID          string          `json:"refId"`
	Expr           string          `json:"expr"`
	Hide           bool            `json:"hide"`
	Instant        bool            `json:"instant"`
	Range          *bool           `json:"range"`
	Interval       string          `json:"interval"`
	IntervalFactor float64         `json:"intervalFactor"`
	LegendFormat   string          `json:"legendFormat"`
	Datasource     json.RawMessage `json:"datasource"`
}

// FieldConfig is a panel's field options and their overrides.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []Override    `json:"overrides"`
}

// FieldDefaults are the field options the check reads.
type FieldDefaults struct {
	Unit       string      `json:"unit"`
	Min        *float64    `json:"min"`
	Max        *float64    `json:"max"`
	Thresholds *Thresholds `json:"thresholds"`
	Color      struct {
		Mode string `json:"mode"`
	} `json:"color"`
	Custom struct {
		ThresholdsStyle *struct {
			Mode string `json:"mode"`
		} `json:"thresholdsStyle"`
	} `json:"custom"`
}

// Thresholds are the steps of a field: the base step (value null) and the
// steps above it, in order; mode "absolute" or "percentage".
type Thresholds struct {
	Mode  string `json:"mode"`
	Steps []Step `json:"steps"`
}

// Step is one threshold step: from Value (nil: the base) on, Color.
type Step struct {
	Color string   `json:"color"`
	Value *float64 `json:"value"`
}

// Override changes field options of the fields its matcher matches.
type Override struct {
	Matcher struct {
		ID      string          `json:"id"`
		Options json.RawMessage `json:"options"`
	} `json:"matcher"`
	Properties []Property `json:"properties"`
}

// Property is one field option an override sets.
type Property struct {
	ID    string          `json:"id"`
	Value json.RawMessage `json:"value"`
}

// Variable is one template variable.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Current    struct {
		Value json.RawMessage `json:"value"`
	} `json:"current"`
	Options []struct {
		Value json.RawMessage `json:"value"`
	} `json:"options"`
	IncludeAll bool    `json:"includeAll"`
	Multi      bool    `json:"multi"`
	AllValue   *string `json:"allValue"`
	Regex      string  `json:"regex"`
	Sort       int     `json:"sort"`
	Auto       bool    `json:"auto"`
	AutoCount  int     `json:"auto_count"`
	AutoMin    string  `json:"auto_min"`
}

// ParseDashboard decodes a dashboard: the HTTP API's answer
// ({"dashboard": ..., "meta": ...}) or the dashboard itself (an exported
// file).
func ParseDashboard(data []byte) (*Dashboard, error) {
	var wrapped struct {
		Dashboard json.RawMessage `json:"dashboard"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("not a dashboard's JSON: %w", err)
	}
	if len(wrapped.Dashboard) > 0 && string(wrapped.Dashboard) != "null" {
		data = wrapped.Dashboard
	}
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("not a dashboard's JSON: %w", err)
	}
	if len(d.Panels) == 0 && len(d.Rows) == 0 {
		return nil, fmt.Errorf("not a dashboard's JSON: no panels")
	}
	return &d, nil
}

// AllPanels returns the dashboard's panels in order, the panels of rows
// (collapsed rows keep theirs in row.panels; old dashboards in rows[])
// included, rows themselves left out.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	for _, r := range d.Rows {
		walk(r.Panels)
	}
	return out
}

// rawString returns a JSON string's value, or "" when raw is not a string.
func rawString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// rawStrings returns a JSON string or array of strings as a list.
func rawStrings(raw json.RawMessage) []string {
	if s, ok := rawString(raw); ok {
		return []string{s}
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	return nil
}

// datasourceRef is a panel's or target's datasource: a name or variable
// (a string, before Grafana 8.3) or a {type, uid} reference.
type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// parseDatasource reads a datasource field: null (the default
// datasource), a string, or {type, uid}.
func parseDatasource(raw json.RawMessage) (ref datasourceRef, name string, isNull bool) {
	if len(raw) == 0 || strings.TrimSpace(string(raw)) == "null" {
		return ref, "", true
	}
	if s, ok := rawString(raw); ok {
		return ref, s, false
	}
	_ = json.Unmarshal(raw, &ref)
	return ref, "", false
}
