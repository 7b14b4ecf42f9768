package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"
)

// historyVersion is the migration that adds the full-text index of
// `/ops history`. It is the one migration written in Go: SQLite's FTS5 and
// PostgreSQL's tsvector share no syntax, so it runs the statements of its
// dialect (historyUp, historyDown). It takes its place in the one
// numbered set like the SQL files around it.
const historyVersion = 12

// The index covers, per anomaly: its title (weighted most), its current
// decision's conclusion and five whys, its ticket and the texts of its
// incidents (what, user impact and every update). It also keeps a copy of
// what the filters and the order go by (fingerprint, decision, and when
// it was decided or else opened), so that a search reads the index alone
// and joins the anomalies for the hits it returns only. Triggers keep it in step
// with every write to anomalies, incidents and incident updates, in the
// writing transaction; each recomputes the anomaly's whole document from
// the view history_documents, so no write path can leave it half-updated.
// The migration fills it for the rows already there.
//
// Both dialects split text into terms the same way: runs of letters and
// digits (SQLite's unicode61 tokenizer; PostgreSQL's parser after
// history_words turns ASCII punctuation into spaces), folded to lower case,
// without stemming, so that a query finds the same anomalies in both.
var historyUp = map[goose.Dialect][]string{
	goose.DialectSQLite3: {
		`CREATE INDEX incidents_by_anomaly ON incidents (anomaly_id)`,
		// A search by filters only lists the newest first, since: a range of it.
		`CREATE INDEX anomalies_by_decided_or_opened ON anomalies ((COALESCE(decided_at, opened_at)))`,
		`CREATE VIEW history_documents AS
		SELECT a.id AS anomaly_id, a.title, a.conclusion, a.five_whys, a.ticket,
			a.fingerprint, a.decision, COALESCE(a.decided_at, a.opened_at) AS at,
			COALESCE((SELECT group_concat(i.what || ' ' || i.user_impact, ' ')
				FROM incidents i WHERE i.anomaly_id = a.id), '') || ' ' ||
			COALESCE((SELECT group_concat(json_extract(u.data, '$.text'), ' ')
				FROM incident_timeline u JOIN incidents i ON i.id = u.incident_id
				WHERE i.anomaly_id = a.id AND u.kind = 'updated'), '') AS incidents
		FROM anomalies a`,
		`CREATE VIRTUAL TABLE history_fts USING fts5(title, conclusion, five_whys, ticket, incidents,
			fingerprint UNINDEXED, decision UNINDEXED, at UNINDEXED,
			tokenize = 'unicode61 remove_diacritics 0')`,
		`CREATE TRIGGER history_anomaly_insert AFTER INSERT ON anomalies BEGIN
			` + sqliteRefresh("new.id") + `
		END`,
		`CREATE TRIGGER history_anomaly_update
		AFTER UPDATE OF title, conclusion, five_whys, ticket, fingerprint, decision, decided_at, opened_at ON anomalies
		WHEN old.title IS NOT new.title OR old.conclusion IS NOT new.conclusion
			OR old.five_whys IS NOT new.five_whys OR old.ticket IS NOT new.ticket
			OR old.fingerprint IS NOT new.fingerprint OR old.decision IS NOT new.decision
			OR old.decided_at IS NOT new.decided_at OR old.opened_at IS NOT new.opened_at BEGIN
			` + sqliteRefresh("new.id") + `
		END`,
		`CREATE TRIGGER history_incident_insert AFTER INSERT ON incidents WHEN new.anomaly_id IS NOT NULL BEGIN
			` + sqliteRefresh("new.anomaly_id") + `
		END`,
		`CREATE TRIGGER history_incident_update AFTER UPDATE OF what, user_impact, anomaly_id ON incidents BEGIN
			` + sqliteRefresh("old.anomaly_id") + `
			` + sqliteRefresh("new.anomaly_id") + `
		END`,
		`CREATE TRIGGER history_incident_updated AFTER INSERT ON incident_timeline WHEN new.kind = 'updated' BEGIN
			` + sqliteRefresh("(SELECT anomaly_id FROM incidents WHERE id = new.incident_id)") + `
		END`,
		`INSERT INTO history_fts (rowid, title, conclusion, five_whys, ticket, incidents, fingerprint, decision, at)
		SELECT anomaly_id, title, conclusion, five_whys, ticket, incidents, fingerprint, decision, at FROM history_documents`,
	},
	goose.DialectPostgres: {
		`CREATE INDEX incidents_by_anomaly ON incidents (anomaly_id)`,
		// A search by filters only lists the newest first, since: a range of it.
		`CREATE INDEX anomalies_by_decided_or_opened ON anomalies ((COALESCE(decided_at, opened_at)))`,
		// ASCII punctuation becomes spaces: the parser would otherwise keep
		// URLs, host names and file paths whole (one term), where SQLite
		// splits them into their words.
		`CREATE FUNCTION history_words(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT AS $$
			SELECT translate(t, '!"#$%&''()*+,-./:;<=>?@[\]^_` + "`" + `{|}~', '                                ')
		$$`,
		`CREATE VIEW history_documents AS
		SELECT a.id AS anomaly_id, a.fingerprint, a.decision, COALESCE(a.decided_at, a.opened_at) AS at,
			setweight(to_tsvector('simple', history_words(a.title)), 'A') ||
			setweight(to_tsvector('simple', history_words(a.conclusion || ' ' || a.five_whys)), 'B') ||
			setweight(to_tsvector('simple', history_words(a.ticket || ' ' ||
				COALESCE((SELECT string_agg(i.what || ' ' || i.user_impact, ' ')
					FROM incidents i WHERE i.anomaly_id = a.id), '') || ' ' ||
				COALESCE((SELECT string_agg(u.data::json ->> 'text', ' ')
					FROM incident_timeline u JOIN incidents i ON i.id = u.incident_id
					WHERE i.anomaly_id = a.id AND u.kind = 'updated'), ''))), 'C') AS document
		FROM anomalies a`,
		`CREATE TABLE history_search (
			anomaly_id  BIGINT   PRIMARY KEY REFERENCES anomalies (id),
			fingerprint TEXT     NOT NULL,
			decision    TEXT,
			at          BIGINT   NOT NULL,
			document    TSVECTOR NOT NULL
		)`,
		`CREATE INDEX history_search_document ON history_search USING GIN (document)`,
		// The row lock, taken first, orders two transactions refreshing
		// one anomaly (a decision and an incident update, say): the second
		// computes the document after the first committed (READ
		// COMMITTED: a new snapshot per statement), so it is never stale.
		`CREATE FUNCTION history_refresh(target BIGINT) RETURNS void LANGUAGE plpgsql AS $$
		BEGIN
			IF target IS NULL THEN
				RETURN;
			END IF;
			PERFORM 1 FROM history_search s WHERE s.anomaly_id = target FOR UPDATE;
			INSERT INTO history_search (anomaly_id, fingerprint, decision, at, document)
				SELECT d.anomaly_id, d.fingerprint, d.decision, d.at, d.document
				FROM history_documents d WHERE d.anomaly_id = target
			ON CONFLICT (anomaly_id) DO UPDATE SET fingerprint = excluded.fingerprint,
				decision = excluded.decision, at = excluded.at, document = excluded.document;
		END
		$$`,
		`CREATE FUNCTION history_anomaly_changed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM history_refresh(NEW.id);
			RETURN NULL;
		END
		$$`,
		`CREATE TRIGGER history_anomaly_insert AFTER INSERT ON anomalies
		FOR EACH ROW EXECUTE FUNCTION history_anomaly_changed()`,
		`CREATE TRIGGER history_anomaly_update
		AFTER UPDATE OF title, conclusion, five_whys, ticket, fingerprint, decision, decided_at, opened_at ON anomalies
		FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.conclusion IS DISTINCT FROM NEW.conclusion
			OR OLD.five_whys IS DISTINCT FROM NEW.five_whys OR OLD.ticket IS DISTINCT FROM NEW.ticket
			OR OLD.fingerprint IS DISTINCT FROM NEW.fingerprint OR OLD.decision IS DISTINCT FROM NEW.decision
			OR OLD.decided_at IS DISTINCT FROM NEW.decided_at OR OLD.opened_at IS DISTINCT FROM NEW.opened_at)
		EXECUTE FUNCTION history_anomaly_changed()`,
		`CREATE FUNCTION history_incident_changed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP = 'UPDATE' AND OLD.anomaly_id IS DISTINCT FROM NEW.anomaly_id THEN
				PERFORM history_refresh(OLD.anomaly_id);
			END IF;
			PERFORM history_refresh(NEW.anomaly_id);
			RETURN NULL;
		END
		$$`,
		`CREATE TRIGGER history_incident_change AFTER INSERT OR UPDATE OF what, user_impact, anomaly_id ON incidents
		FOR EACH ROW EXECUTE FUNCTION history_incident_changed()`,
		`CREATE FUNCTION history_incident_updated() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM history_refresh((SELECT anomaly_id FROM incidents WHERE id = NEW.incident_id));
			RETURN NULL;
		END
		$$`,
		`CREATE TRIGGER history_incident_updated AFTER INSERT ON incident_timeline
		FOR EACH ROW WHEN (NEW.kind = 'updated') EXECUTE FUNCTION history_incident_updated()`,
		`INSERT INTO history_search (anomaly_id, fingerprint, decision, at, document)
		SELECT anomaly_id, fingerprint, decision, at, document FROM history_documents`,
	},
}

var historyDown = map[goose.Dialect][]string{
	goose.DialectSQLite3: {
		`DROP TRIGGER history_incident_updated`,
		`DROP TRIGGER history_incident_update`,
		`DROP TRIGGER history_incident_insert`,
		`DROP TRIGGER history_anomaly_update`,
		`DROP TRIGGER history_anomaly_insert`,
		`DROP TABLE history_fts`,
		`DROP VIEW history_documents`,
		`DROP INDEX anomalies_by_decided_or_opened`,
		`DROP INDEX incidents_by_anomaly`,
	},
	goose.DialectPostgres: {
		`DROP TRIGGER history_incident_updated ON incident_timeline`,
		`DROP TRIGGER history_incident_change ON incidents`,
		`DROP TRIGGER history_anomaly_update ON anomalies`,
		`DROP TRIGGER history_anomaly_insert ON anomalies`,
		`DROP FUNCTION history_incident_updated()`,
		`DROP FUNCTION history_incident_changed()`,
		`DROP FUNCTION history_anomaly_changed()`,
		`DROP FUNCTION history_refresh(BIGINT)`,
		`DROP TABLE history_search`,
		`DROP VIEW history_documents`,
		`DROP FUNCTION history_words(TEXT)`,
		`DROP INDEX anomalies_by_decided_or_opened`,
		`DROP INDEX incidents_by_anomaly`,
	},
}

// sqliteRefresh is the statements (in a trigger) that recompute the
// document of the anomaly whose id is the SQL expression id.
func sqliteRefresh(id string) string {
	return `DELETE FROM history_fts WHERE rowid = ` + id + `;
			INSERT INTO history_fts (rowid, title, conclusion, five_whys, ticket, incidents, fingerprint, decision, at)
			SELECT anomaly_id, title, conclusion, five_whys, ticket, incidents, fingerprint, decision, at FROM history_documents
			WHERE anomaly_id = ` + id + `;`
}

// goMigrations are the migrations written in Go, for dialect.
func goMigrations(dialect goose.Dialect) ([]*goose.Migration, error) {
	up, down := historyUp[dialect], historyDown[dialect]
	if up == nil || down == nil {
		return nil, fmt.Errorf("migration %d: no statements for the %s dialect", historyVersion, dialect)
	}
	return []*goose.Migration{goose.NewGoMigration(historyVersion,
		&goose.GoFunc{RunTx: runAll(up)}, &goose.GoFunc{RunTx: runAll(down)})}, nil
}

func runAll(statements []string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, s := range statements {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%w\n%s", err, s)
			}
		}
		return nil
	}
}
