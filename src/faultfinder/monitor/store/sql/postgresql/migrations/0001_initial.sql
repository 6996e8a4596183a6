-- The first schema: raw results, hourly (or other width) rollups of old ones, state changes.
-- Times are Unix epoch milliseconds, as in every dialect.

CREATE TABLE faultfinder_observations (
    id BIGSERIAL PRIMARY KEY,
    stack TEXT NOT NULL,
    agent TEXT NOT NULL,
    component TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    ok BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    code TEXT,
    duration_ms DOUBLE PRECISION NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX faultfinder_observations_component
    ON faultfinder_observations (stack, component, at_ms);
CREATE INDEX faultfinder_observations_time ON faultfinder_observations (stack, at_ms);

CREATE TABLE faultfinder_rollups (
    stack TEXT NOT NULL,
    agent TEXT NOT NULL,
    component TEXT NOT NULL,
    bucket_ms BIGINT NOT NULL,
    width_ms BIGINT NOT NULL,
    checks BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    total_ms DOUBLE PRECISION NOT NULL,
    max_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (stack, agent, component, bucket_ms)
);

CREATE TABLE faultfinder_changes (
    id BIGSERIAL PRIMARY KEY,
    stack TEXT NOT NULL,
    agent TEXT NOT NULL,
    component TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL,
    code TEXT,
    owner TEXT NOT NULL,
    summary TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX faultfinder_changes_time ON faultfinder_changes (stack, at_ms);
