-- stockd_meta holds small facts about this database's stockd data (format versions,
-- installation id), one value per key.
CREATE TABLE stockd_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
