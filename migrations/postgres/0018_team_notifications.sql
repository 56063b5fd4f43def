-- Who in the team does not want a kind of mail: one row per user and kind they turned off
-- (`access-requests`: a request waits for a decision). No row means the mail is wanted, so a
-- new access manager is told from the start.
CREATE TABLE notification_optouts (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
