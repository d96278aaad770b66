-- When each user's token was last used (to the minute: auth writes it at most once a
-- minute per user), for `pipetrack admin list-users`. A nullable column without a
-- default: no table rewrite.
ALTER TABLE users ADD COLUMN last_seen_at TIMESTAMPTZ;
