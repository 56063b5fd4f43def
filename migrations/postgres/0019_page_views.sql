-- Views of the public trust center's pages: one count per organization, day (UTC, YYYY-MM-DD)
-- and page path. Only pages the site serves are counted (never arbitrary request paths), robots
-- are left out by user agent, and nothing identifies a visitor: no cookie, no IP address, no
-- user agent is kept. A public document's download is counted under its download path,
-- /documents/{slug}/download. Each instance counts in memory and adds its counts here.
CREATE TABLE page_views (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    day TEXT NOT NULL,
    page TEXT NOT NULL,
    views BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, page)
);
