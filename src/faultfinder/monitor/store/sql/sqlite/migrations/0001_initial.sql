-- The first schema: raw results, hourly (or other width) rollups of old ones, state changes.
-- Times are Unix epoch milliseconds.

CREATE TABLE faultfinder_observations (
    id INTEGER PRIMARY KEY,
    stack TEXT NOT NULL,
    agent TEXT NOT NULL,
    component TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    status TEXT NOT NULL,
    code TEXT,
    duration_ms REAL NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX faultfinder_observations_component
    ON faultfinder_observations (stack, component, at_ms);
CREATE INDEX faultfinder_observations_time ON faultfinder_observations (stack, at_ms);

CREATE TABLE faultfinder_rollups (
    stack TEXT NOT NULL,
    agent TEXT NOT NULL,
    component TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    width_ms INTEGER NOT NULL,
    checks INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    total_ms REAL NOT NULL,
    max_ms REAL NOT NULL,
    PRIMARY KEY (stack, agent, component, bucket_ms)
);

CREATE TABLE faultfinder_changes (
    id INTEGER PRIMARY KEY,
    stack TEXT NOT NULL,
    agent TEXT NOT NULL,
    component TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL,
    code TEXT,
    owner TEXT NOT NULL,
    summary TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX faultfinder_changes_time ON faultfinder_changes (stack, at_ms);
