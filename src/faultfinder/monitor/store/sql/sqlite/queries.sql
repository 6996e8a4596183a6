-- The statements of the SQLite store. `-- name:` starts each; parameters are ?N.

-- name: create_schema_table
CREATE TABLE IF NOT EXISTS faultfinder_schema (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL
);

-- name: schema_version
SELECT COALESCE(MAX(version), 0) FROM faultfinder_schema;

-- name: record_migration
INSERT INTO faultfinder_schema (version, name, applied_at_ms) VALUES (?1, ?2, ?3);

-- name: insert_observation
INSERT INTO faultfinder_observations
    (stack, agent, component, at_ms, ok, status, code, duration_ms, result)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9);

-- name: insert_change
INSERT INTO faultfinder_changes
    (stack, agent, component, at_ms, old, new, code, owner, summary, detail)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10);

-- name: last_changes
SELECT agent, component, at_ms, old, new, code, owner, summary, detail FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY component ORDER BY at_ms DESC, id DESC) AS newest
    FROM faultfinder_changes WHERE stack = ?1 AND agent = ?2
) WHERE newest = 1 ORDER BY component;

-- name: changes
SELECT agent, component, at_ms, old, new, code, owner, summary, detail
FROM faultfinder_changes
WHERE stack = ?1 AND at_ms >= ?2 AND at_ms < ?3
    AND (?4 IS NULL OR agent = ?4) AND (?5 IS NULL OR component = ?5)
ORDER BY at_ms, id;

-- name: observations
SELECT agent, component, at_ms, code, duration_ms, result FROM (
    SELECT * FROM faultfinder_observations
    WHERE stack = ?1 AND component = ?2 AND at_ms >= ?3 AND at_ms < ?4
        AND (?5 IS NULL OR agent = ?5)
    ORDER BY at_ms DESC, id DESC LIMIT ?6
) ORDER BY at_ms, id;

-- name: availability
SELECT component, agent, SUM(checks), SUM(failures), SUM(total_ms), MAX(max_ms) FROM (
    SELECT component, agent, COUNT(*) AS checks, SUM(1 - ok) AS failures,
        SUM(duration_ms) AS total_ms, MAX(duration_ms) AS max_ms
    FROM faultfinder_observations
    WHERE stack = ?1 AND at_ms >= ?2 AND at_ms < ?3 AND (?4 IS NULL OR agent = ?4)
    GROUP BY component, agent
    UNION ALL
    SELECT component, agent, SUM(checks), SUM(failures), SUM(total_ms), MAX(max_ms)
    FROM faultfinder_rollups
    WHERE stack = ?1 AND bucket_ms >= ?2 AND bucket_ms < ?3 AND (?4 IS NULL OR agent = ?4)
    GROUP BY component, agent
) GROUP BY component, agent ORDER BY component, agent;

-- name: roll_up
INSERT INTO faultfinder_rollups
    (stack, agent, component, bucket_ms, width_ms, checks, failures, total_ms, max_ms)
SELECT stack, agent, component, (at_ms / ?3) * ?3, ?3, COUNT(*), SUM(1 - ok),
    SUM(duration_ms), MAX(duration_ms)
FROM faultfinder_observations WHERE stack = ?1 AND at_ms < ?2
GROUP BY stack, agent, component, at_ms / ?3
ON CONFLICT (stack, agent, component, bucket_ms) DO UPDATE SET
    checks = checks + excluded.checks,
    failures = failures + excluded.failures,
    total_ms = total_ms + excluded.total_ms,
    max_ms = max(max_ms, excluded.max_ms);

-- name: delete_observations
DELETE FROM faultfinder_observations WHERE stack = ?1 AND at_ms < ?2;

-- name: delete_rollups
DELETE FROM faultfinder_rollups WHERE stack = ?1 AND bucket_ms < ?2;

-- name: delete_changes
DELETE FROM faultfinder_changes WHERE stack = ?1 AND at_ms < ?2;
